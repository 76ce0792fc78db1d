import { parseDuration } from '../pki/index.ts';
import { conditionOf, DEFAULT_CERTIFICATE_DURATION_MS, type CertificateRequest } from '../api/index.ts';
import { recordEvent } from '../store/index.ts';
import { importPrivateKey } from '../pki/index.ts';
import { setCondition, rfc3339 } from './conditions.ts';
import { COMPONENT, type ControllerContext } from './context.ts';
import { loadIssuer } from './issuers.ts';
import { Reason } from './reasons.ts';
import { Annotation } from './request-names.ts';
import { base64, secretText } from './secret-data.ts';
import { signRequest } from './sign-request.ts';
import { writeStatusIfChanged } from './status-write.ts';

/**
 * The request controller: signs a pending CertificateRequest with its issuer and
 * records the outcome on its status (Ready True/Issued, False/Pending while the
 * issuer is not ready, False/Failed for good). Returns the request as it now is.
 */
export async function processRequest(ctx: ControllerContext, request: CertificateRequest): Promise<CertificateRequest> {
  const ready = conditionOf(request, 'Ready');
  if (ready !== undefined && (ready.reason === Reason.Issued || ready.reason === Reason.Failed)) return request;
  const namespace = request.metadata.namespace ?? 'default';
  const issuer = await loadIssuer(ctx, request);
  const now = ctx.now();
  let status: NonNullable<CertificateRequest['status']>;
  if (!issuer.ready) {
    status = {
      ...request.status,
      conditions: setCondition(request.status?.conditions, {
        type: 'Ready', status: 'False', reason: Reason.Pending,
        message: `Waiting on issuer "${request.spec.issuerRef.name}": ${issuer.message}`,
      }, now),
    };
  } else {
    let privateKey;
    if (issuer.signer.kind === 'selfSigned') {
      const keySecretName = request.metadata.annotations?.[Annotation.privateKeySecretName];
      const keySecret = keySecretName === undefined ? undefined : await ctx.store.get('Secret', keySecretName, namespace);
      const keyPem = secretText(keySecret, 'tls.key');
      privateKey = keyPem === undefined ? undefined : (await importPrivateKey(keyPem)).privateKey;
    }
    const result = await signRequest({
      csrPem: Buffer.from(request.spec.request, 'base64').toString('utf8'),
      duration: request.spec.duration !== undefined ? parseDuration(request.spec.duration) : DEFAULT_CERTIFICATE_DURATION_MS,
      isCA: request.spec.isCA ?? false,
      usages: request.spec.usages,
      privateKey,
    }, issuer.signer, { now, clockSkew: ctx.clockSkew });
    if (result.ok) {
      const chain = [result.certificate, ...result.intermediates].map((c) => c.pem).join('');
      status = {
        conditions: setCondition(request.status?.conditions, {
          type: 'Ready', status: 'True', reason: Reason.Issued, message: 'Certificate fetched from issuer successfully',
        }, now),
        certificate: base64(chain),
        ...(result.root !== undefined ? { ca: base64(result.root.pem) } : {}),
      };
      if (result.clampedTo !== undefined) {
        // Remember the clamp on the request; the issuing controller copies it to the Secret.
        await ctx.store.apply({
          ...request,
          metadata: {
            ...request.metadata,
            annotations: { ...request.metadata.annotations, [Annotation.clampedToIssuer]: rfc3339(result.clampedTo) },
          },
        });
      }
    } else {
      status = {
        conditions: setCondition(request.status?.conditions, {
          type: 'Ready', status: 'False', reason: Reason.Failed, message: result.message,
        }, now),
        failureTime: rfc3339(now),
      };
      await recordEvent(ctx.store, request, { type: 'Warning', reason: Reason.Failed, message: result.message, component: COMPONENT });
    }
  }
  await writeStatusIfChanged(ctx.store, request, status);
  return (await ctx.store.get('CertificateRequest', request.metadata.name, namespace)) ?? request;
}
