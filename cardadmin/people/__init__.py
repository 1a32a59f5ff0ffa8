"""Card holders (persons), their HSA identity and employer."""
