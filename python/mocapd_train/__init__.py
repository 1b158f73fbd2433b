"""mocapd_train: the PyTorch trainer of mocapd's ViMo-style denoiser (see the README, "Training")."""
