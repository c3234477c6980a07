from yingshe.cli import main

raise SystemExit(main())
