"""torch-energy: energy-convnet's nets in PyTorch, as an ebmflow plugin."""
