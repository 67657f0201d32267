"""minitune.optim"""
