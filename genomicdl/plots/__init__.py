"""Plots (matplotlib, headless) of evaluations, proteins and signal tracks."""
