"""Blend: masks, colour transfer and compositing of rendered faces into the frame."""
