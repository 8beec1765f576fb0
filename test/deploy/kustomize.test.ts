/**
 * Every Kustomize overlay renders with `kubectl kustomize`, and each object it makes is valid
 * against the Kubernetes OpenAPI schemas (kubernetes-models); the settings it gives the gateway
 * are ones the gateway accepts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { ConfigMap, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { loadConfig } from '../../src/config/load.js';
import { createSpeechServerProviders } from '../../src/providers/create-speech-servers.js';

const run = promisify(execFile);

interface GatewayContainer {
  livenessProbe: { grpc: { port: number } };
  readinessProbe: { grpc: { service: string } };
  envFrom: Array<{ configMapRef?: { name: string } }>;
  resources: { requests: { cpu?: string }; limits: { memory?: string } };
}

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; [key: string]: unknown };

/** The schema of every kind the manifests use; an unknown kind fails the test. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'v1/ConfigMap': ConfigMap,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Service': Service,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

async function render(dir: string): Promise<K8sObject[]> {
  const { stdout } = await run('kubectl', ['kustomize', `deploy/kubernetes/${dir}`]);
  return parseAllDocuments(stdout).map((doc) => doc.toJSON() as K8sObject);
}

const find = (objects: K8sObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name.startsWith(name));

for (const dir of ['base', 'overlays/local-engines', 'overlays/riva-nim', 'overlays/riva-nim-resume', 'overlays/speaches']) {
  void describe(`kustomize ${dir}`, () => {
    void it('every object is valid against its Kubernetes schema', async () => {
      const objects = await render(dir);
      assert.ok(objects.length > 5);
      for (const object of objects) {
        const Model = MODELS[`${object.apiVersion}/${object.kind}`];
        assert.ok(Model, `no schema known for ${object.apiVersion} ${object.kind}`);
        assert.doesNotThrow(() => new Model(object as never).validate(), `${object.kind} ${object.metadata.name}`);
      }
    });

    void it('the gateway gets settings it accepts, and probes, resources and drain as designed', async () => {
      const objects = await render(dir);
      const config = find(objects, 'ConfigMap', 'voice-gateway-config') as unknown as { data: Record<string, string> };
      assert.doesNotThrow(() => loadConfig(config.data), 'the ConfigMap passes the gateway config schema');
      const settings = loadConfig(config.data);
      const deployment = find(objects, 'Deployment', 'voice-gateway') as unknown as {
        spec: { template: { spec: { terminationGracePeriodSeconds: number; containers: GatewayContainer[]; topologySpreadConstraints: unknown[] } } };
      };
      const pod = deployment.spec.template.spec;
      const gateway = pod.containers[0]!;
      assert.equal(gateway.livenessProbe.grpc.port, 50051);
      assert.equal(gateway.readinessProbe.grpc.service, 'voice.v1.VoiceGateway');
      // The drain's grace, a store write per session and the last clients' reconnect notice fit in the pod's grace.
      const drainMs = settings.DRAIN_GRACE_MS + settings.SESSION_STORE_TIMEOUT_MS + 2000;
      assert.ok(pod.terminationGracePeriodSeconds * 1000 >= drainMs, `grace ${pod.terminationGracePeriodSeconds} s covers the drain (${drainMs} ms)`);
      assert.ok(pod.topologySpreadConstraints.length > 0);
      assert.ok(gateway.resources.requests.cpu && gateway.resources.limits.memory);
      // The ConfigMap name carries a content hash, so a settings change rolls the pods.
      const configName = (config as unknown as K8sObject).metadata.name;
      assert.match(configName, /^voice-gateway-config-[a-z0-9]{10}$/);
      assert.ok(gateway.envFrom.some((e) => e.configMapRef?.name === configName));
    });
  });
}

void it('the Riva + NIM overlay lets only the gateway reach Riva and NIM', async () => {
  const objects = await render('overlays/riva-nim');
  for (const name of ['nim-llm-from-gateway-only', 'riva-from-gateway-only']) {
    const policy = find(objects, 'NetworkPolicy', name) as unknown as { spec: { ingress: Array<{ from: Array<{ podSelector: { matchLabels: Record<string, string> } }> }> } };
    assert.ok(policy, name);
    assert.deepEqual(policy.spec.ingress[0]!.from[0]!.podSelector.matchLabels, { 'app.kubernetes.io/name': 'voice-gateway', 'app.kubernetes.io/component': 'gateway' });
  }
  const nim = find(objects, 'Deployment', 'nim-llm') as unknown as { spec: { template: { spec: { containers: Array<{ resources: { limits: Record<string, unknown> } }> } } } };
  assert.equal(nim.spec.template.spec.containers[0]!.resources.limits['nvidia.com/gpu'], 1);
});

void it('the resume overlay runs Redis on a volume, gives the gateway its URL and RESUME_SECRET from a Secret, and rolls without a gap', async () => {
  const objects = await render('overlays/riva-nim-resume');
  const redis = find(objects, 'StatefulSet', 'voice-gateway-redis') as unknown as {
    spec: { serviceName: string; volumeClaimTemplates: Array<{ metadata: { name: string }; spec: { resources: { requests: { storage: string } } } }>; template: { spec: { containers: Array<{ volumeMounts: Array<{ name: string; mountPath: string }>; args: string[] }> } } };
  };
  assert.ok(redis, 'a Redis StatefulSet');
  assert.equal(redis.spec.volumeClaimTemplates[0]!.metadata.name, 'data');
  assert.ok(redis.spec.template.spec.containers[0]!.volumeMounts.some((m) => m.name === 'data' && m.mountPath === '/data'));
  assert.match(redis.spec.template.spec.containers[0]!.args.join(' '), /--requirepass "\$REDIS_PASSWORD" --appendonly yes/);
  assert.ok(find(objects, 'Service', redis.spec.serviceName), 'its Service');
  const config = loadConfig((find(objects, 'ConfigMap', 'voice-gateway-config') as unknown as { data: Record<string, string> }).data);
  assert.equal(config.SESSION_STORE, 'redis');
  assert.equal(new URL(config.REDIS_URL).hostname, redis.spec.serviceName);
  const deployment = find(objects, 'Deployment', 'voice-gateway') as unknown as {
    spec: { strategy: { rollingUpdate: { maxUnavailable: number; maxSurge: number } }; template: { spec: { containers: Array<{ env: Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }> }> } } };
  };
  const env = deployment.spec.template.spec.containers[0]!.env;
  for (const name of ['RESUME_SECRET', 'REDIS_PASSWORD']) {
    assert.deepEqual(env.find((e) => e.name === name)?.valueFrom?.secretKeyRef, { name: 'voice-gateway-resume', key: name }, `${name} from the Secret`);
  }
  assert.deepEqual(deployment.spec.strategy.rollingUpdate, { maxUnavailable: 0, maxSurge: 1 });
  const policy = find(objects, 'NetworkPolicy', 'voice-gateway-redis-from-gateway-only') as unknown as { spec: { ingress: Array<{ from: Array<{ podSelector: { matchLabels: Record<string, string> } }> }> } };
  assert.deepEqual(policy.spec.ingress[0]!.from[0]!.podSelector.matchLabels, { 'app.kubernetes.io/name': 'voice-gateway', 'app.kubernetes.io/component': 'gateway' });
});

void it('the speaches component: speaches beside the gateway, reached only by it, and settings that make both speech providers', async () => {
  const objects = await render('overlays/speaches');
  const config = find(objects, 'ConfigMap', 'voice-gateway-config') as unknown as { data: Record<string, string> };
  const providers = createSpeechServerProviders(loadConfig(config.data));
  assert.ok(providers.asr && providers.tts, 'ASR and TTS are speaches');
  assert.equal(config.data.ASR_BASE_URL, 'http://speaches:8000/v1');
  const service = find(objects, 'Service', 'speaches') as unknown as { spec: { ports: Array<{ port: number }> } };
  assert.equal(service.spec.ports[0]!.port, 8000);
  const policy = find(objects, 'NetworkPolicy', 'speaches-from-gateway-only') as unknown as { spec: { ingress: Array<{ from: Array<{ podSelector: { matchLabels: Record<string, string> } }> }> } };
  assert.deepEqual(policy.spec.ingress[0]!.from[0]!.podSelector.matchLabels, { 'app.kubernetes.io/name': 'voice-gateway', 'app.kubernetes.io/component': 'gateway' });
  const speaches = find(objects, 'Deployment', 'speaches') as unknown as { metadata: { namespace: string }; spec: { template: { spec: { containers: Array<{ env: Array<{ name: string; value: string }> }> } } } };
  assert.equal(speaches.metadata.namespace, 'voice');
  const preload = JSON.parse(speaches.spec.template.spec.containers[0]!.env.find((e) => e.name === 'PRELOAD_MODELS')!.value) as string[];
  assert.deepEqual(preload, [config.data.ASR_MODEL, config.data.TTS_MODEL], 'speaches downloads the models the gateway asks for');
});
