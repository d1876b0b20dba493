"""Question 1's models: one module per model, named after it, with its SPEC (see ``base``)."""
