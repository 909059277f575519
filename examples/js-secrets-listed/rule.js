// Reports a person listing or watching secrets in every namespace at once: a sweep of the
// cluster's credentials that workloads and controllers do, people rarely should.
//
// Built with jco / componentize-js against the same `rule` world as every Peregrine rule
// (wit/rules.wit); see README.md.

import { log } from 'peregrine:rules/log@0.3.0';

const FINDING_TYPE = 'CredentialAccess:Kubernetes/SecretsListedClusterWide';

// Callers that list secrets everywhere as part of their job.
const MACHINE_PREFIXES = ['system:'];

function isPerson(user) {
  return !MACHINE_PREFIXES.some((p) => user.username.startsWith(p));
}

export function describe() {
  return {
    findingType: FINDING_TYPE,
    severity: 5.0,
    title: 'A person read the secrets of every namespace.',
    description:
      'A user who is not a service account, node or control-plane component listed or ' +
      'watched secrets across all namespaces.',
    audit: {
      verbs: ['list', 'watch'],
      resources: ['secrets'],
      subresources: [],
      namespaces: [],
      users: [],
      sourceIpListed: false,
    },
    runtime: undefined,
    wantsRaw: false,
  };
}

export function evaluateAudit(events) {
  const findings = [];
  events.forEach((event, index) => {
    const ref = event.objectRef;
    // A namespace means one namespace's secrets; cluster-wide requests have none.
    if (!ref || ref.namespace) return;
    if (event.responseCode === undefined || event.responseCode >= 400) return;
    if (!isPerson(event.user)) return;
    log('info', `secrets listed cluster-wide by ${event.user.username}`);
    findings.push({
      eventIndex: index,
      severity: undefined,
      title: undefined,
      description: `${event.user.username} ${event.verb === 'watch' ? 'watched' : 'listed'} the secrets of every namespace.`,
      parameters: undefined,
      threatIntel: [],
      additionalInfo: [['userAgent', event.userAgent ?? '']],
      anomaly: [],
      aggregationKey: undefined,
      runtimeContext: [],
    });
  });
  return findings;
}

// The rule subscribes to no runtime events.
export function evaluateRuntime(events) {
  return [];
}
