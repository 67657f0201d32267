"""minitune.kernels"""
