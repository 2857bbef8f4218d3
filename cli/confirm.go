package cli

import (
	"bufio"
	"context"
	"fmt"
	"strings"
)

// consent is how a person agrees to a change that must not happen unseen (of a protected
// stage, of the state backend): by typing an answer at a terminal, or, where there is
// none (CI), with a flag on the command line.
type consent struct {
	// given says that the command line already agrees (--yes, or --confirm with the
	// stack's name): nothing is asked.
	given bool
	// commandLine is the command that agrees without a terminal, e.g. "go run . deploy
	// --stage prod --yes", shown when there is no terminal to ask at.
	commandLine string
	// stopped is what did not happen when consent is missing, e.g. "nothing was applied".
	stopped string
	// question is asked at the terminal; accept says whether an answer agrees.
	question string
	accept   func(answer string) bool
}

// yesOrNo accepts y or yes, in any case; everything else, Enter alone included, is no.
func yesOrNo(answer string) bool {
	answer = strings.ToLower(answer)
	return answer == "y" || answer == "yes"
}

// exactly accepts want and nothing else.
func exactly(want string) func(string) bool {
	return func(answer string) bool { return answer == want }
}

// canConfirm fails, before anything runs, when consent was not given on the command line
// and there is no terminal to ask at.
func (t *tool) canConfirm(c consent) error {
	if c.given || isTerminal(t.stdin) {
		return nil
	}
	return fmt.Errorf("no terminal to confirm at, so %s. Run it at a terminal, or, where no one can answer (CI), with:\n    %s", c.stopped, c.commandLine)
}

// confirm asks c.question at the terminal, unless c was given on the command line, and
// fails unless the answer agrees. Interrupting the question (Ctrl-C) is a refusal.
func (t *tool) confirm(ctx context.Context, c consent) error {
	if c.given {
		return nil
	}
	if err := t.canConfirm(c); err != nil {
		return err
	}
	fmt.Fprint(t.stderr, c.question)
	answers := make(chan string, 1)
	failed := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(t.stdin).ReadString('\n')
		if err != nil && line == "" {
			failed <- err
			return
		}
		answers <- strings.TrimSpace(line)
	}()
	select {
	case answer := <-answers:
		if c.accept(answer) {
			return nil
		}
		return fmt.Errorf("not confirmed: %s", c.stopped)
	case err := <-failed:
		fmt.Fprintln(t.stderr)
		return fmt.Errorf("reading the answer: %w; %s", err, c.stopped)
	case <-ctx.Done():
		fmt.Fprintln(t.stderr)
		return fmt.Errorf("interrupted before an answer: %s", c.stopped)
	}
}
