"""minitune.finetune"""
