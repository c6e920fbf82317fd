"""Training pipeline of Lofi Loom's decoder: data, descriptors, model, export, evaluation."""
