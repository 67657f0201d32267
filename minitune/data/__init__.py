"""minitune.data"""
