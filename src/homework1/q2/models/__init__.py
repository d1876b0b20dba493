"""Question 2's models: one module per model, named after it, with its ``SPEC``
(``homework1.plan.specs``) and ``build(input_shape, n_classes, **architecture) -> nn.Module``.
``input_shape`` is one example's: (features,) for flat inputs, (channels, height, width)
for images."""
