"""minitune.io"""
