package constructs

import (
	"os"

	"github.com/aws/jsii-runtime-go"
)

// nodeEndOfLifeSilence names the Node.js release whose end-of-life banner jsii need not
// print on every start: Node 20, which this project runs on and tests with (README:
// Requirements), past its end of life since 2026-04-30. jsii reads the list from
// nodeEndOfLifeEnv, comma-separated.
const (
	nodeEndOfLifeEnv     = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"
	nodeEndOfLifeSilence = "20"
)

// silenceNodeEndOfLife keeps jsii's ten-line banner about Node 20 out of every
// command's output, unless the environment already says which releases to silence.
//
// The CDKTF packages prepare the jsii runtime while they initialize, before main runs,
// and its environment is fixed then; the runtime starts on the first CDKTF call. So
// the prepared runtime is discarded and the next call prepares it again with the
// setting. No App exists before the first NewApp, so nothing runs in it yet.
func silenceNodeEndOfLife() {
	if _, set := os.LookupEnv(nodeEndOfLifeEnv); set {
		return
	}
	os.Setenv(nodeEndOfLifeEnv, nodeEndOfLifeSilence)
	jsii.Close()
}
