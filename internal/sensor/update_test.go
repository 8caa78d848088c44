package sensor

import "flag"

var update = flag.Bool("update", false, "rewrite the committed fuzz seeds and recordings")
