package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/personabackend/app/constructs"
)

// journey runs the steps of one person's visit in one tab, saving a screenshot after each.
type journey struct {
	t    *testing.T
	ctx  context.Context
	dir  string
	step int
}

// do runs actions within the step timeout, then saves the page as NN-name.png.
func (j *journey) do(name string, actions ...chromedp.Action[chromedp.Void]) {
	j.t.Helper()
	ctx, cancel := context.WithTimeout(j.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		j.shot("failed-" + name)
		j.t.Fatalf("step %q: %v\ndev's log:\n%s", name, err, shared.Get(j.t).log.String())
	}
	j.shot(name)
}

func (j *journey) shot(name string) {
	j.t.Helper()
	j.step++
	ctx, cancel := context.WithTimeout(j.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		j.t.Errorf("screenshot of %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(j.dir, fmt.Sprintf("%02d-%s.png", j.step, name)), png, 0o644); err != nil {
		j.t.Error(err)
	}
}

// value runs an action that reads something off the page.
func value[T any](j *journey, a chromedp.Action[T]) T {
	j.t.Helper()
	ctx, cancel := context.WithTimeout(j.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		j.t.Fatalf("reading the page: %v", err)
	}
	return v
}

// css and xpath name elements for the actions below.
type (
	css   = chromedp.CSS
	xpath = chromedp.Search
)

// signIn signs in as a user an administrator created: the temporary password, then
// the new-password step, until the person's list shows.
func (j *journey) signIn(web, email, temporary, chosen string) {
	j.t.Helper()
	j.do("sign-in-page",
		chromedp.Navigate(web+"/sign-in"),
		chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), email),
		chromedp.SendKeys(css("#password"), temporary),
	)
	j.do("new-password-step",
		chromedp.Click(xpath(`//button[normalize-space()="Sign in"]`)),
		chromedp.WaitVisible(css("#new-password")),
		chromedp.SendKeys(css("#new-password"), chosen),
		chromedp.SendKeys(css("#confirm-password"), chosen),
	)
	// The pool's policy reaches the page through config.json.
	if hint, want := value(j, chromedp.Text(css("#new-password-hint"))), fmt.Sprintf("At least %d characters", constructs.PasswordMinimumLength); !strings.HasPrefix(hint, want) {
		j.t.Errorf("the new password's hint is %q, want the pool's policy: %s…", hint, want)
	}
	j.do("signed-in",
		chromedp.Click(xpath(`//button[normalize-space()="Set password and sign in"]`)),
		chromedp.WaitVisible(xpath(`//h1[normalize-space()="Your personas"]`)),
		chromedp.WaitVisible(xpath(`//button[normalize-space()="Sign out"]`)),
	)
}

// TestAPersonSignsInRequestsAPersonaWatchesItBecomeReadyAndSeesOnlyTheirOwn follows a
// person from sign-in to a ready persona, in a browser against the dev mode: users
// created with the users command, sign-in with the same SRP code as a deployed stage
// (against moto's Cognito, which accepts any password, so a wrong password cannot be
// tested here), a refused form value with the API's own message, a persona turning
// ready without a reload, its page, sign-out, and a second user who sees none of the
// first's personas.
func TestAPersonSignsInRequestsAPersonaWatchesItBecomeReadyAndSeesOnlyTheirOwn(t *testing.T) {
	h := devSession(t)
	dir := outputDir(t)
	t.Logf("screenshots: %s", dir)
	j := &journey{t: t, ctx: browser(t), dir: dir}
	site := h.session.WebURL

	ada := h.addUser(t, "ada@example.com")
	j.signIn(site, "ada@example.com", ada, "Ada-chose-this-1")

	const name = "Ada's research assistant"
	j.do("request-form",
		chromedp.Click(xpath(`//nav//a[normalize-space()="Request a persona"]`)),
		chromedp.WaitVisible(css("#name")),
		chromedp.SendKeys(css("#name"), name),
		chromedp.SendKeys(css("#instructions"), "Find sources and cite them."),
		// The form leaves duplicate tools to the API.
		chromedp.SendKeys(css("#tools"), "search, search"),
	)
	j.do("api-message-next-to-the-field",
		chromedp.Click(xpath(`//button[normalize-space()="Request persona"]`)),
		chromedp.WaitVisible(css("#tools-error")),
	)
	if msg := value(j, chromedp.Text(css("#tools-error"))); !strings.Contains(msg, `"search" is listed twice`) {
		t.Errorf("the tools field shows %q, want the API's message that search is listed twice", msg)
	}
	if invalid := value(j, chromedp.AttributeValue(css("#tools"), "aria-invalid")); invalid.Value != "true" {
		t.Errorf("#tools aria-invalid = %q after the API refused it", invalid.Value)
	}

	j.do("requested",
		// Select the field's text and type over it, as a person would.
		chromedp.Focus(css("#tools")),
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.KeyEvent("search"),
		chromedp.Click(xpath(`//button[normalize-space()="Request persona"]`)),
		chromedp.WaitVisible(xpath(fmt.Sprintf(`//h1[normalize-space()=%q]`, name))),
	)
	// A full page load would forget this; client-side navigation keeps it.
	value(j, chromedp.Evaluate[bool](`window.e2eNoReload = true`))
	j.do("ready-without-reloading",
		chromedp.Click(xpath(`//nav//a[normalize-space()="Your personas"]`)),
		chromedp.WaitVisible(css("ul.persona-list")),
		chromedp.WaitVisible(xpath(fmt.Sprintf(`//ul[contains(@class,"persona-list")]/li[a[normalize-space()=%q]]//*[contains(@class,"status-ready")]`, name))),
	)
	if !value(j, chromedp.Evaluate[bool](`window.e2eNoReload === true`)) {
		t.Error("the page was reloaded on the way to seeing the persona ready")
	}
	j.do("its-page",
		chromedp.Click(xpath(fmt.Sprintf(`//ul[contains(@class,"persona-list")]//a[normalize-space()=%q]`, name))),
		chromedp.WaitVisible(css("#profile-heading")),
	)
	if heading := value(j, chromedp.Text(css("#profile-heading"))); heading != "Agent profile" {
		t.Errorf("profile heading %q", heading)
	}
	j.do("signed-out",
		chromedp.Click(xpath(`//button[normalize-space()="Sign out"]`)),
		chromedp.WaitVisible(css("#email")),
	)

	bob := h.addUser(t, "bob@example.com")
	j.signIn(site, "bob@example.com", bob, "Bob-chose-this-2")
	j.do("second-user-sees-none",
		chromedp.WaitVisible(xpath(`//p[contains(normalize-space(),"You have no personas yet")]`)),
	)
	if body := value(j, chromedp.Text(css("main"))); strings.Contains(body, name) {
		t.Errorf("bob sees ada's persona:\n%s", body)
	}
}
