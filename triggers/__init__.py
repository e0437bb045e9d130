"""The rule engine: config models, compiled matchers, conditions and actions."""
