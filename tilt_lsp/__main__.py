from tilt_lsp.cli import main

raise SystemExit(main())
