"""The landlords' property register as the app reads it: landlords, address folding, address
search, the object view (premises), queries. Plain functions that flush; imports core,
models and auth's service, never a feature package."""
