"""minitune.models"""
