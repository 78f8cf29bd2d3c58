// The npm package bankid's BankIdClientV6 (a client nobody here wrote) against dispatch's
// local BankID service, driven by tests/portal/test_identity_bankid_peer.py:
//   node client.mjs API_URL CA CLIENT_CERT CLIENT_KEY
// It prints one JSON line per step: the auth answer with the QR code the library made, then
// (after the test's simulated user signed) the collected completion, then a cancelled
// order's collect error. The library pins BankID's own hosts and wants a PKCS#12 file; its
// axios instance is pointed at our service with our PEM certificates instead.
import fs from "node:fs";
import https from "node:https";
import readline from "node:readline";
import axios from "axios";
import { BankIdClientV6 } from "bankid";
import { QrGenerator } from "bankid/lib/qrgenerator.js";

const [apiUrl, ca, cert, key] = process.argv.slice(2);
const client = new BankIdClientV6({ production: false, refreshInterval: 200 });
client.axios = axios.create({
  baseURL: apiUrl,
  httpsAgent: new https.Agent({ ca: fs.readFileSync(ca), cert: fs.readFileSync(cert),
                                key: fs.readFileSync(key) }),
  headers: { "Content-Type": "application/json" },
});
const say = (value) => console.log(JSON.stringify(value));
const lines = readline.createInterface({ input: process.stdin });
const next = () => new Promise((resolve) => lines.once("line", resolve));

try {
  const order = await client.authenticate({ endUserIp: "192.0.2.10" });
  const qr = await QrGenerator.latestQrFromCache(order.orderRef);
  say({ step: "auth", orderRef: order.orderRef, qr, autoStartToken: order.autoStartToken });
  await next(); // the simulated user has signed
  const done = await client.awaitPendingCollect(order.orderRef);
  say({ step: "complete", status: done.status, user: done.completionData.user });
  const other = await client.authenticate({ endUserIp: "192.0.2.10" });
  await client.cancel({ orderRef: other.orderRef });
  try {
    await client.collect({ orderRef: other.orderRef });
    say({ step: "cancelled", error: null });
  } catch (err) {
    say({ step: "cancelled", error: err.code });
  }
} catch (err) {
  say({ step: "error", error: String(err), code: err.code });
}
lines.close();
process.exit(0); // the QR cache keeps a 60 s timer alive
