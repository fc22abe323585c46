/**
 * The smallest S3 endpoint Terraform's s3 backend can keep state in, on 127.0.0.1 only: one bucket,
 * path-style requests, objects in memory, ListObjectsV2, GET/HEAD/PUT/DELETE of objects and the
 * conditional PUT (If-None-Match: *) that Terraform's S3-native lock file relies on. It checks no
 * signature; it records every request (method, key, the headers that matter) so a test can see what
 * the backend configuration made Terraform send. A stand-in for a real store, not an S3 emulator.
 */
import * as http from "http";
import { AddressInfo } from "net";

export interface RecordedRequest {
  readonly method: string;
  readonly bucket: string;
  readonly key: string;
  readonly query: string;
  /** Credential scope of the SigV4 Authorization header: access key/date/region/service/aws4_request. */
  readonly credential?: string;
  readonly ifNoneMatch?: string;
  readonly sse?: string;
}

export interface S3Recorder {
  readonly endpoint: string;
  readonly requests: RecordedRequest[];
  readonly objects: Map<string, Buffer>;
  close(): Promise<void>;
}

const xml = (body: string) => `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
const s3Error = (code: string, message: string) => xml(`<Error><Code>${code}</Code><Message>${message}</Message></Error>`);

export async function startS3Recorder(bucket: string): Promise<S3Recorder> {
  const requests: RecordedRequest[] = [];
  const objects = new Map<string, Buffer>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://local");
      const [, b = "", ...rest] = url.pathname.split("/");
      const key = decodeURIComponent(rest.join("/"));
      const auth = String(req.headers.authorization ?? "");
      requests.push({
        method: req.method ?? "",
        bucket: b,
        key,
        query: url.search,
        credential: /Credential=([^,]+)/.exec(auth)?.[1],
        ifNoneMatch: req.headers["if-none-match"] as string | undefined,
        sse: req.headers["x-amz-server-side-encryption"] as string | undefined,
      });
      const send = (status: number, body = "", headers: Record<string, string> = {}) => {
        res.writeHead(status, { "content-type": "application/xml", ...headers });
        res.end(req.method === "HEAD" ? undefined : body);
      };
      if (b !== bucket) return send(404, s3Error("NoSuchBucket", "The specified bucket does not exist"));
      if (key === "" && req.method === "GET") {
        const prefix = url.searchParams.get("prefix") ?? "";
        const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
        const contents = keys.map((k) => `<Contents><Key>${k}</Key><Size>${objects.get(k)!.length}</Size></Contents>`).join("");
        return send(200, xml(`<ListBucketResult><Name>${bucket}</Name><Prefix>${prefix}</Prefix><KeyCount>${keys.length}</KeyCount><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`));
      }
      if (key === "") return send(200);
      switch (req.method) {
        case "GET":
        case "HEAD": {
          const o = objects.get(key);
          if (!o) return send(404, s3Error("NoSuchKey", "The specified key does not exist."));
          res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(o.length), etag: '"x"' });
          return res.end(req.method === "HEAD" ? undefined : o);
        }
        case "PUT":
          if (req.headers["if-none-match"] === "*" && objects.has(key)) {
            return send(412, s3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold"));
          }
          objects.set(key, Buffer.concat(chunks));
          return send(200, "", { etag: '"x"' });
        case "DELETE":
          objects.delete(key);
          return send(204);
        default:
          return send(405, s3Error("MethodNotAllowed", "not supported here"));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    objects,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
