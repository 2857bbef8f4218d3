import { Head, Html, Main, NextScript } from "next/document";

export default function Document() {
  return (
    <Html lang="en">
      <Head>
        <meta name="description" content="Request and follow your personas." />
      </Head>
      <body>
        <Main />
        <NextScript />
      </body>
    </Html>
  );
}
