package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// A phone's screen: an iPhone 12 to 15's, in CSS pixels, at three device pixels each.
const (
	phoneWidth  = 390
	phoneHeight = 844
)

// misfits lists what on the page does not fit the screen: the page wider than it (a
// sideways scroll), and each visible control reaching past either edge. The screen is
// the layout viewport, documentElement.clientWidth: a phone's browser zooms out to show
// a page wider than the screen, and window.innerWidth grows with it, so comparing with
// innerWidth would find nothing. The skip link is off-screen by design until it takes
// focus.
const misfits = `(() => {
  const problems = [];
  const width = document.documentElement.clientWidth;
  const page = document.documentElement.scrollWidth;
  if (page > width) problems.push("the page is " + page + " px wide on a " + width + " px screen");
  for (const el of document.querySelectorAll("a[href], button, input, textarea, select, summary")) {
    if (el.classList.contains("skip")) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const name = (el.textContent || el.id || el.getAttribute("name") || "").trim().slice(0, 40);
    if (r.left < 0 || r.right > width + 0.5) problems.push(el.tagName.toLowerCase() + " \"" + name + "\" spans " + Math.round(r.left) + " to " + Math.round(r.right) + " px");
  }
  return problems;
})()`

// fits fails the test for each part of the current page that does not fit the screen.
func (j *journey) fits(step string) {
	j.t.Helper()
	for _, problem := range value(j, chromedp.Evaluate[[]string](misfits)) {
		j.t.Errorf("%s, on a %d px wide screen: %s", step, phoneWidth, problem)
	}
}

// TestOnAPhoneEveryPageFitsTheScreenAndItsControlsAreReachable follows the main
// journey on a phone-sized screen (mobile emulation: the page's viewport meta, touch):
// sign-in, the new-password step, the list, the request form, the persona's page, the
// list with it, and the authenticator page; each step is saved as a screenshot and
// checked for a sideways scroll and for controls past the screen's edges, and the
// journey itself taps the links and buttons a person would.
func TestOnAPhoneEveryPageFitsTheScreenAndItsControlsAreReachable(t *testing.T) {
	h := devSession(t)
	dir := outputDir(t)
	t.Logf("screenshots: %s", dir)
	ctx := browser(t)
	j := &journey{t: t, ctx: ctx, dir: dir}
	j.do("phone-screen", chromedp.EmulateViewport(phoneWidth, phoneHeight, chromedp.EmulateScale(3), chromedp.EmulateMobile))

	const email = "a.person.with.a.rather.long.address@example.com"
	temporary := h.addUser(t, email)
	j.do("sign-in-page",
		chromedp.Navigate(h.session.WebURL+"/sign-in"),
		chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), email),
		chromedp.SendKeys(css("#password"), temporary),
	)
	j.fits("the sign-in page")
	j.do("new-password-step",
		chromedp.Click(xpath(`//button[normalize-space()="Sign in"]`)),
		chromedp.WaitVisible(css("#new-password")),
		chromedp.SendKeys(css("#new-password"), "Phone-chose-this-5"),
		chromedp.SendKeys(css("#confirm-password"), "Phone-chose-this-5"),
	)
	j.fits("the new-password step")
	j.do("empty-list",
		chromedp.Click(xpath(`//button[normalize-space()="Set password and sign in"]`)),
		chromedp.WaitVisible(xpath(`//p[contains(normalize-space(),"You have no personas yet")]`)),
	)
	j.fits("the empty list")

	const name = "A persona with a name long enough to need wrapping on a small screen, surely"
	j.do("request-form",
		chromedp.Click(xpath(`//nav//a[normalize-space()="Request a persona"]`)),
		chromedp.WaitVisible(css("#name")),
		chromedp.SendKeys(css("#name"), name),
		chromedp.SendKeys(css("#instructions"), strings.Repeat("Answer in one short paragraph. ", 20)),
		chromedp.SendKeys(css("#tools"), "search"),
	)
	j.fits("the request form")
	j.do("persona-page",
		chromedp.Click(xpath(`//button[normalize-space()="Request persona"]`)),
		chromedp.WaitVisible(xpath(fmt.Sprintf(`//h1[normalize-space()=%q]`, name))),
		chromedp.WaitVisible(css("#profile-heading")),
	)
	j.fits("the persona's page with its profile")
	j.do("list",
		chromedp.Click(xpath(`//nav//a[normalize-space()="Your personas"]`)),
		chromedp.WaitVisible(xpath(fmt.Sprintf(`//ul[contains(@class,"persona-list")]/li[a[normalize-space()=%q]]`, name))),
	)
	j.fits("the list")
	j.do("authenticator-page",
		chromedp.Click(xpath(`//header//a[normalize-space()="Authenticator app"]`)),
		chromedp.WaitVisible(css("svg#totp-qr")),
	)
	j.fits("the authenticator page")
	j.do("signed-out",
		chromedp.Click(xpath(`//button[normalize-space()="Sign out"]`)),
		chromedp.WaitVisible(css("#email")),
	)
}

// TestTheFitCheckFindsASidewaysScrollAndAControlPastTheEdge shows the check above can
// fail: a page with a wide block and a button pushed past the right edge.
func TestTheFitCheckFindsASidewaysScrollAndAControlPastTheEdge(t *testing.T) {
	ctx := browser(t)
	page := `data:text/html,<meta name="viewport" content="width=device-width"><div style="width:600px">wide</div>` +
		`<button style="margin-left:400px">Far</button>`
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(phoneWidth, phoneHeight, chromedp.EmulateScale(3), chromedp.EmulateMobile),
		chromedp.Navigate(page),
	); err != nil {
		t.Fatal(err)
	}
	problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](misfits))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(problems, "; "); !strings.Contains(got, "the page is 6") || !strings.Contains(got, `button "Far"`) {
		t.Errorf("the check found %q, want the page's width and the button past the edge", got)
	}
}
