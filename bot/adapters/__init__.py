"""Platform adapters: the only code that knows a platform; they speak Event and Effect."""
