/**
 * `weft check --proxy`: every meshed pod's proxy is ready, presents a valid
 * certificate that chains to a current trust anchor, trusts the current anchors,
 * and renews its certificate on schedule.
 */
import { DEFAULT_REFRESH_POLICY } from '../identity/index.ts';
import { verifyChain } from '../pki/index.ts';
import { fail, ok, type Check, type CheckOutcome } from './check.ts';
import type { DataPlaneContext, ProxyObservation } from './data-plane-context.ts';
import { durationText, timeText } from './format.ts';
import { hint } from './hint.ts';
import { Category, worst } from './mesh-checks.ts';
import { metricValue } from './metric-value.ts';

/** The proxy's expiry gauge (Linkerd's name). */
export const EXPIRY_METRIC = 'identity_cert_expiration_timestamp_seconds';

/** Runs `judge` on every proxy; problems of the worst kind are listed, one line per proxy. */
async function each(ctx: DataPlaneContext, judge: (p: ProxyObservation, ctx: DataPlaneContext) => Promise<CheckOutcome> | CheckOutcome): Promise<CheckOutcome> {
  return worst(await Promise.all((await ctx.proxies()).map(async (p) => judge(p, ctx))));
}

function tlsFailure(p: ProxyObservation): CheckOutcome | undefined {
  if (p.tls.chain.length > 0) return undefined;
  return fail('error', `Proxy "${p.target.name}" completed no mesh TLS handshake on ${p.target.host}:${p.target.inboundPort}: ${p.tls.error ?? 'no certificate'}`);
}

/** The checks of `weft check --proxy`. */
export function proxyChecks(): Check<DataPlaneContext>[] {
  return [
    {
      category: Category.dataPlane, description: 'meshed pods are found', hint: hint('proxies-found'), severity: 'warning',
      async run(ctx) {
        const n = (await ctx.proxies()).length;
        if (n > 0) return ok(`${n} proxy(ies)`);
        const where = ctx.namespace === undefined ? '' : ` in namespace "${ctx.namespace}"`;
        return fail('warning', `No meshed pods found${where}: inject some with the weft.dev/inject annotation, or name proxies with --proxy-admin HOST:PORT`);
      },
    },
    {
      category: Category.dataPlane, description: 'data plane proxies are ready', hint: hint('proxies-ready'), severity: 'error',
      run: (ctx) => each(ctx, (p) => {
        if ('error' in p.ready) return fail('error', `Proxy "${p.target.name}" does not answer on its admin port: ${p.ready.error}`);
        return p.ready.status === 200 ? ok() : fail('error', `Proxy "${p.target.name}" is not ready (HTTP ${p.ready.status}): ${p.ready.body.trim()}`);
      }),
    },
    {
      category: Category.dataPlane, description: 'data plane proxy certificates are valid', hint: hint('proxy-cert-validity'), severity: 'error',
      run: (ctx) => each(ctx, (p, c) => {
        const broken = tlsFailure(p);
        if (broken !== undefined) return broken;
        const leaf = p.tls.chain[0]!;
        const now = c.now();
        if (now > leaf.notAfter) return fail('error', `Proxy "${p.target.name}" presents a certificate that expired at ${timeText(leaf.notAfter)}`);
        if (now < leaf.notBefore) return fail('error', `Proxy "${p.target.name}" presents a certificate not valid before ${timeText(leaf.notBefore)}: check the clocks`);
        if (!leaf.sans.some((s) => s.type === 'dns')) return fail('error', `Proxy "${p.target.name}" presents a certificate without a DNS identity`);
        return ok();
      }),
    },
    {
      category: Category.dataPlane, description: 'data plane proxy certificates chain to a current trust anchor', hint: hint('proxy-cert-trust'), severity: 'error',
      run: async (ctx) => {
        const anchors = await ctx.anchors();
        return each(ctx, (p, c) => {
          const broken = tlsFailure(p);
          if (broken !== undefined) return broken;
          const [leaf, ...rest] = p.tls.chain;
          const v = verifyChain(leaf!, { roots: anchors, intermediates: rest, at: c.now() });
          return v.kind === 'valid' ? ok()
            : fail('error', `Proxy "${p.target.name}" presents a certificate that does not chain to the current trust anchors: ${v.reason}`);
        });
      },
    },
    {
      category: Category.dataPlane, description: 'data plane proxies trust the current trust anchors', hint: hint('proxy-trust-bundle'), severity: 'error',
      run: (ctx) => each(ctx, (p) => {
        if (p.bundleUnchecked !== undefined) return fail('warning', `Cannot test proxy "${p.target.name}"'s trust bundle: ${p.bundleUnchecked}`);
        const broken = tlsFailure(p);
        if (broken !== undefined) return broken;
        if (p.tls.accepted === true) return ok();
        if (p.tls.accepted === false) {
          return fail('error', `Proxy "${p.target.name}" refused a certificate from the current issuer (${p.tls.error ?? 'refused'}): `
            + 'its trust bundle does not hold the current trust anchor; it must get the current bundle (restart it, or re-project its trust roots)');
        }
        return fail('warning', `Cannot tell whether proxy "${p.target.name}" trusts the current anchors: ${p.tls.error ?? 'no answer'}`);
      }),
    },
    {
      category: Category.dataPlane, description: 'data plane proxies renew their certificates on schedule', hint: hint('proxy-cert-renewal'), severity: 'error',
      run: async (ctx) => {
        const config = await ctx.config();
        return each(ctx, (p, c) => {
          if ('error' in p.metrics) return fail('warning', `Cannot read proxy "${p.target.name}"'s metrics: ${p.metrics.error}`);
          const seconds = metricValue(p.metrics, EXPIRY_METRIC);
          if (seconds === undefined || seconds === 0) return fail('warning', `Proxy "${p.target.name}" does not report ${EXPIRY_METRIC}: it has no certificate yet`);
          const expiry = new Date(seconds * 1000);
          const now = c.now();
          if (expiry <= now) return fail('error', `Proxy "${p.target.name}"'s certificate expired at ${timeText(expiry)}: it failed to renew; check that it reaches identity`);
          const leaf = p.tls.chain[0];
          // The real lifetime (a leaf clamped to its issuer is shorter), else the configured one.
          const lifetime = leaf !== undefined && Math.abs(leaf.notAfter.getTime() - expiry.getTime()) < 1000
            ? leaf.notAfter.getTime() - leaf.notBefore.getTime() : config.issuanceLifetimeMs;
          const due = new Date(expiry.getTime() - (1 - DEFAULT_REFRESH_POLICY.fraction) * lifetime);
          // Retries back off up to a minute; past that plus a tenth of the lifetime, renewal is stuck.
          const late = now.getTime() - due.getTime() - DEFAULT_REFRESH_POLICY.backoffMaxMs - lifetime * 0.1;
          if (late > 0) {
            return fail('warning', `Proxy "${p.target.name}" should have renewed its certificate at ${timeText(due)} and has not; `
              + `it expires at ${timeText(expiry)} (in ${durationText(expiry.getTime() - now.getTime())}): check that it reaches identity`);
          }
          return ok();
        });
      },
    },
  ];
}
