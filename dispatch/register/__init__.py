"""The landlords' property register as the app reads it: landlords, address folding, address
search (``search``: one index over every register; ``index_files``: that index as files a
child process builds and every web process maps, kept current in the background), the object
view (premises), queries. Plain functions that flush; imports core, models and auth's
service, never a feature package."""
