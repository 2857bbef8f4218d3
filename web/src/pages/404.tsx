import Link from "next/link";
import { Layout } from "../components/Layout";

export default function NotFound() {
  return (
    <Layout title="Page not found">
      <p>There is no page at this address.</p>
      <p>
        <Link href="/">Go to your personas</Link>
      </p>
    </Layout>
  );
}
