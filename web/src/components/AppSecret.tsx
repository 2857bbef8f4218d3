import { useEffect, useState } from "react";
import type { AppSecret as Secret } from "../lib/cognito";

// AppSecret shows what an authenticator app is set up with: a QR code of the
// otpauth:// link (drawn once its encoder has loaded: it is fetched with this page
// only), the link itself, which opens an app on this device, and the secret as
// text, in groups of four, to type in by hand.
export function AppSecret({ app }: { app: Secret }) {
  const [modules, setModules] = useState<boolean[][] | null>(null);
  useEffect(() => {
    let live = true;
    import("uqr").then(({ encode }) => live && setModules(encode(app.uri, { ecc: "M", border: 4 }).data));
    return () => {
      live = false;
    };
  }, [app.uri]);

  return (
    <div className="app-secret">
      {modules && (
        <svg
          id="totp-qr"
          role="img"
          aria-label="QR code of the setup link: scan it with your authenticator app"
          viewBox={`0 0 ${modules.length} ${modules.length}`}
          shapeRendering="crispEdges"
        >
          <rect width="100%" height="100%" fill="#fff" />
          <path
            fill="#000"
            d={modules.flatMap((row, y) => row.map((dark, x) => (dark ? `M${x} ${y}h1v1h-1z` : ""))).join("")}
          />
        </svg>
      )}
      <p>
        Scan the QR code with your authenticator app, or on this device{" "}
        <a id="totp-uri" href={app.uri}>
          open the setup link
        </a>
        , or type in this key:
      </p>
      <p>
        <code id="totp-secret" className="secret">
          {app.secret.match(/.{1,4}/g)?.join(" ")}
        </code>
      </p>
    </div>
  );
}
