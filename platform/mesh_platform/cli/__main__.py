"""Allow `python -m mesh_platform.cli`."""

from mesh_platform.cli import main

main()
