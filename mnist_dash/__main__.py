import signal
import sys

from mnist_dash.cli import main

# Piped into `head`, exit quietly like other command-line tools.
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
sys.exit(main())
