package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/chromedp/chromedp"
)

// totpVerifyEnv makes moto check the codes of authenticator apps (RFC 6238: SHA-1, 6
// digits, 30 s) against the secret it gives every app; unset, it takes any code.
const totpVerifyEnv = "MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP"

// totp is the code an authenticator app set up with the base32 secret shows at t.
func totp(tb testing.TB, secret string, t time.Time) string {
	tb.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(strings.TrimRight(secret, "=")))
	if err != nil {
		tb.Fatalf("the page's secret %q is not base32: %v", secret, err)
	}
	mac := hmac.New(sha1.New, key)
	binary.Write(mac, binary.BigEndian, uint64(t.Unix()/30))
	sum := mac.Sum(nil)
	offset := sum[len(sum)-1] & 0x0f
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[offset:offset+4])&0x7fffffff)%1_000_000)
}

// currentCode is the app's code for a submission: Cognito (and moto) take only the
// code of the 30-second step they check it in, so one with under 15 s left waits for
// the next step, and the page has the rest of it to send the code.
func currentCode(tb testing.TB, secret string) string {
	tb.Helper()
	now := time.Now()
	if left := 30*time.Second - now.Sub(now.Truncate(30*time.Second)); left < 15*time.Second {
		time.Sleep(left)
	}
	return totp(tb, secret, time.Now())
}

// appSecret reads the secret and the otpauth link the page shows for setting up an
// app, and checks the link carries the secret for account.
func (j *journey) appSecret(account string) string {
	j.t.Helper()
	secret := strings.ReplaceAll(value(j, chromedp.Text(css("#totp-secret"))), " ", "")
	link := value(j, chromedp.AttributeValue(css("#totp-uri"), "href"))
	u, err := url.Parse(link.Value)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Query().Get("secret") != secret || !strings.HasSuffix(u.Path, ":"+account) {
		j.t.Errorf("the setup link is %q (%v), want otpauth://totp/<issuer>:%s with the secret %s shown", link.Value, err, account, secret)
	}
	return secret
}

// TestAPersonSetsUpAnAuthenticatorAppAndThenSignsInWithItsCode sets up an app on the
// signed-in page against the local Cognito (moto checking real codes of the secret it
// gave): a wrong code is refused in words and TOTP stays off; the right one turns it
// on; the next sign-in asks for the app's code after the password.
func TestAPersonSetsUpAnAuthenticatorAppAndThenSignsInWithItsCode(t *testing.T) {
	h := devSession(t)
	dir := outputDir(t)
	j := &journey{t: t, ctx: browser(t), dir: dir}
	const email, password = "carol@example.com", "Carol-chose-this-3"
	j.signIn(h.session.WebURL, email, h.addUser(t, email), password)

	j.do("setup-page",
		chromedp.Click(xpath(`//header//a[normalize-space()="Authenticator app"]`)),
		chromedp.WaitVisible(xpath(`//h1[normalize-space()="Set up an authenticator app"]`)),
		chromedp.WaitVisible(css("#totp-secret")),
		chromedp.WaitVisible(css("svg#totp-qr")),
	)
	secret := j.appSecret(email)

	right := currentCode(t, secret)
	wrong := fmt.Sprint((int(right[0]-'0')+1)%10) + right[1:]
	j.do("wrong-code-refused",
		chromedp.SendKeys(css("#code"), wrong),
		chromedp.Click(xpath(`//button[normalize-space()="Verify and turn on"]`)),
		chromedp.WaitVisible(css("#setup-error")),
	)
	if msg := value(j, chromedp.Text(css("#setup-error"))); !strings.Contains(msg, "The code is not right") {
		t.Errorf("a wrong code shows %q, want it called not right", msg)
	}
	j.do("turned-on",
		chromedp.Focus(css("#code")),
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.KeyEvent(currentCode(t, secret)),
		chromedp.Click(xpath(`//button[normalize-space()="Verify and turn on"]`)),
		chromedp.WaitVisible(css("#setup-done")),
	)

	j.do("code-asked-after-the-password",
		chromedp.Click(xpath(`//button[normalize-space()="Sign out"]`)),
		chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), email),
		chromedp.SendKeys(css("#password"), password),
		chromedp.Click(xpath(`//button[normalize-space()="Sign in"]`)),
		chromedp.WaitVisible(xpath(`//h2[normalize-space()="Enter your code"]`)),
	)
	j.do("signed-in-with-the-code",
		chromedp.SendKeys(css("#code"), currentCode(t, secret)),
		chromedp.Click(xpath(`//button[normalize-space()="Sign in"]`)),
		chromedp.WaitVisible(xpath(`//h1[normalize-space()="Your personas"]`)),
	)
}

// TestOnAPoolThatRequiresAnAppANewPersonSetsOneUpWhileSigningIn turns the local
// pool's MFA to ON, as a stage with USER_MFA=ON has it, for this test: a new user's
// sign-in goes password, new password, then setting up an app (MFA_SETUP), whose
// first code signs them in.
func TestOnAPoolThatRequiresAnAppANewPersonSetsOneUpWhileSigningIn(t *testing.T) {
	h := devSession(t)
	requireAppsOnThePool(t, h)
	dir := outputDir(t)
	j := &journey{t: t, ctx: browser(t), dir: dir}
	const email, password = "dan@example.com", "Dan-chose-this-4"
	temporary := h.addUser(t, email)

	j.do("new-password-step",
		chromedp.Navigate(h.session.WebURL+"/sign-in"),
		chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), email),
		chromedp.SendKeys(css("#password"), temporary),
		chromedp.Click(xpath(`//button[normalize-space()="Sign in"]`)),
		chromedp.WaitVisible(css("#new-password")),
		chromedp.SendKeys(css("#new-password"), password),
		chromedp.SendKeys(css("#confirm-password"), password),
	)
	j.do("setup-step",
		chromedp.Click(xpath(`//button[normalize-space()="Set password and sign in"]`)),
		chromedp.WaitVisible(xpath(`//h2[normalize-space()="Set up an authenticator app"]`)),
		chromedp.WaitVisible(css("#totp-secret")),
		chromedp.WaitVisible(css("svg#totp-qr")),
	)
	secret := j.appSecret(email)
	j.do("signed-in",
		chromedp.SendKeys(css("#code"), currentCode(t, secret)),
		chromedp.Click(xpath(`//button[normalize-space()="Verify and sign in"]`)),
		chromedp.WaitVisible(xpath(`//h1[normalize-space()="Your personas"]`)),
	)
}

// requireAppsOnThePool sets the local pool's MFA to ON with authenticator apps, and
// back to OFF when the test ends: the dev session is shared by the package's tests.
func requireAppsOnThePool(t *testing.T, h *harness) {
	t.Helper()
	pool := h.session.Cognito
	set := func(mfa ciptypes.UserPoolMfaType) {
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		if _, err := pool.Client().SetUserPoolMfaConfig(ctx, &cip.SetUserPoolMfaConfigInput{
			UserPoolId:                    aws.String(pool.PoolID),
			MfaConfiguration:              mfa,
			SoftwareTokenMfaConfiguration: &ciptypes.SoftwareTokenMfaConfigType{Enabled: mfa != ciptypes.UserPoolMfaTypeOff},
		}); err != nil {
			t.Fatalf("setting the local pool's MFA to %s: %v", mfa, err)
		}
	}
	set(ciptypes.UserPoolMfaTypeOn)
	t.Cleanup(func() { set(ciptypes.UserPoolMfaTypeOff) })
}
