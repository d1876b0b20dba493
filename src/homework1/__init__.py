"""Homework 1 reproduction: data handling, numpy and PyTorch models, training loops, theory checks."""
