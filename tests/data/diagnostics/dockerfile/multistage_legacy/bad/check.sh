echo "settings.toml is missing" >&2
exit 4
