from policyengine.cli import main

raise SystemExit(main())
