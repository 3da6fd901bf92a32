{{/*
Shared pieces of every deployable (tasks, recurrence, reminders, audit, gateway). Each deployable's
template file calls "taskmesh.deployable" with its values key, so the name is the same everywhere:
folder, image, Deployment, Service, Dapr app-id, values key.
*/}}

{{- define "taskmesh.labels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/part-of: taskmesh
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end }}

{{- define "taskmesh.selector" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end }}

{{/* registry/name:tag; the tag defaults to the chart's appVersion (CI sets the commit). */}}
{{- define "taskmesh.image" -}}
{{- $image := .values.image | default dict -}}
{{- $repository := $image.repository | default (printf "%s/%s" .root.Values.global.imageRegistry .name) -}}
{{- $tag := $image.tag | default .root.Values.global.imageTag | default .root.Chart.AppVersion -}}
{{- printf "%s:%s" $repository $tag -}}
{{- end }}

{{/* Pod security as in Online Boutique: non-root, no privilege escalation, read-only root, no capabilities. */}}
{{- define "taskmesh.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "taskmesh.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: [ALL]
{{- end }}

{{/* Connection settings every service reads; secrets come from the Secret named in values.secrets. */}}
{{- define "taskmesh.commonEnv" -}}
{{- $g := .root.Values.global -}}
- name: DRAIN_DELAY_MS
  value: {{ mul $g.drain.delaySeconds 1000 | quote }}
- name: LOG_LEVEL
  value: {{ $g.logLevel | quote }}
- name: KAFKA_BROKERS
  valueFrom:
    secretKeyRef:
      name: {{ .root.Values.secrets.name }}
      key: KAFKA_BROKERS
- name: SCHEMA_REGISTRY_URL
  value: {{ .root.Values.schemaRegistry.url | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ .name }}
{{- with $g.tracing }}
{{- if .otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .otlpEndpoint | quote }}
- name: OTEL_TRACES_SAMPLER
  value: {{ .sampler | quote }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ .samplerArg | quote }}
{{- end }}
{{- end }}
{{- if .values.database }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .root.Values.secrets.name }}
      key: DATABASE_URL
{{- end }}
{{- range $target := .values.targets }}
- name: {{ printf "%s_URL" (upper $target) }}
  value: {{ printf "http://%s:%v" $target (index $.root.Values $target "port") | quote }}
{{- end }}
{{- range $name, $value := .values.env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end }}

{{/*
Deployment + Service (+ HPA, PDB when enabled) of one deployable.
Zero downtime: a new pod takes traffic only once grpc.health.v1 says SERVING; an old one is removed
from endpoints first (preStop sleep), then gets SIGTERM, turns unready, waits DRAIN_DELAY_MS, finishes
its in-flight calls and streams and exits, all within terminationGracePeriodSeconds.
*/}}
{{- define "taskmesh.deployable" -}}
{{- $root := .root -}}
{{- $name := .name -}}
{{- $v := index $root.Values $name -}}
{{- $g := $root.Values.global -}}
{{- $ctx := dict "root" $root "name" $name "values" $v -}}
{{- if $v.enabled }}
{{- $dapr := merge (deepCopy ($v.dapr | default dict)) $root.Values.dapr -}}
{{- /* merge lets a default true win over a deployable's false: booleans are read key by key */}}
{{- if hasKey ($v.dapr | default dict) "appHealthCheck" }}{{ $_ := set $dapr "appHealthCheck" $v.dapr.appHealthCheck }}{{ end -}}
{{- if le (int $g.drain.terminationGracePeriodSeconds) (add $g.drain.preStopSeconds $g.drain.delaySeconds $g.drain.inFlightSeconds) }}
{{- fail "global.drain.terminationGracePeriodSeconds must exceed preStopSeconds + delaySeconds + inFlightSeconds" }}
{{- end }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "taskmesh.labels" $ctx | nindent 4 }}
spec:
  {{- if not $v.autoscaling.enabled }}
  replicas: {{ $v.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  minReadySeconds: {{ $g.minReadySeconds }}
  selector:
    matchLabels:
      {{- include "taskmesh.selector" $ctx | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "taskmesh.labels" $ctx | nindent 8 }}
      annotations:
        {{- if $dapr.enabled }}
        dapr.io/enabled: "true"
        dapr.io/app-id: {{ $name }}
        dapr.io/app-port: {{ $v.port | quote }}
        dapr.io/app-protocol: {{ $dapr.appProtocol }}
        dapr.io/config: {{ $dapr.config }}
        dapr.io/enable-metrics: "true"
        dapr.io/metrics-port: "9090"
        dapr.io/log-as-json: "true"
        {{- /* the sidecar outlives the app's drain, so calls made while draining still go out */}}
        dapr.io/graceful-shutdown-seconds: {{ sub $g.drain.terminationGracePeriodSeconds 2 | quote }}
        dapr.io/block-shutdown-duration: {{ printf "%ds" (add $g.drain.preStopSeconds $g.drain.delaySeconds $g.drain.inFlightSeconds) | quote }}
        {{- if $dapr.appHealthCheck }}
        {{- /* the block ends as soon as the app turns unready (SIGTERM): the sidecar then closes its
        server and callers' sidecars move to the other replicas instead of calling a draining one */}}
        dapr.io/enable-app-health-check: "true"
        dapr.io/app-health-probe-interval: "1"
        dapr.io/app-health-probe-timeout: "500"
        dapr.io/app-health-threshold: "1"
        {{- end }}
        dapr.io/sidecar-cpu-request: {{ $dapr.sidecarCpuRequest | quote }}
        dapr.io/sidecar-memory-request: {{ $dapr.sidecarMemoryRequest | quote }}
        dapr.io/sidecar-memory-limit: {{ $dapr.sidecarMemoryLimit | quote }}
        {{- end }}
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ $v.metricsPort | default $v.port | quote }}
        prometheus.io/path: /metrics
    spec:
      {{- /* daprd reads the secret store and registers with the control plane as this account */}}
      serviceAccountName: {{ $root.Values.serviceAccount.name }}
      automountServiceAccountToken: {{ $dapr.enabled }}
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ $g.drain.terminationGracePeriodSeconds }}
      securityContext:
        {{- include "taskmesh.podSecurityContext" $ctx | nindent 8 }}
      {{- with $g.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if $v.topologySpread }}
      topologySpreadConstraints:
        {{- range $key := list "topology.kubernetes.io/zone" "kubernetes.io/hostname" }}
        - maxSkew: 1
          topologyKey: {{ $key }}
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "taskmesh.selector" $ctx | nindent 14 }}
          matchLabelKeys: [pod-template-hash]
        {{- end }}
      {{- end }}
      containers:
        - name: {{ $name }}
          image: {{ include "taskmesh.image" $ctx }}
          imagePullPolicy: {{ $g.imagePullPolicy }}
          securityContext:
            {{- include "taskmesh.containerSecurityContext" $ctx | nindent 12 }}
          ports:
            - name: grpc
              containerPort: {{ $v.port }}
              protocol: TCP
            {{- if $v.metricsPort }}
            - name: metrics
              containerPort: {{ $v.metricsPort }}
              protocol: TCP
            {{- end }}
          env:
            - name: PORT
              value: {{ $v.port | quote }}
            {{- if $v.metricsPort }}
            - name: METRICS_PORT
              value: {{ $v.metricsPort | quote }}
            {{- end }}
            {{- include "taskmesh.commonEnv" $ctx | nindent 12 }}
          {{- with $v.secretEnv }}
            {{- range $var, $key := . }}
            - name: {{ $var }}
              valueFrom:
                secretKeyRef:
                  name: {{ $root.Values.secrets.name }}
                  key: {{ $key }}
            {{- end }}
          {{- end }}
          startupProbe:
            grpc:
              port: {{ $v.port }}
            periodSeconds: 2
            failureThreshold: {{ $g.startupFailureThreshold }}
          # A pod being deleted leaves the endpoints at once, whatever this probe says; the probe only
          # has to notice a replica that stopped serving. One slow answer on a busy node must not
          # empty a one-replica Service (the Ingress then answers 404 for every request).
          readinessProbe:
            httpGet:
              path: /readyz
              port: grpc
            periodSeconds: 2
            timeoutSeconds: 3
            failureThreshold: 3
            successThreshold: 1
          livenessProbe:
            grpc:
              port: {{ $v.port }}
            periodSeconds: 10
            timeoutSeconds: 3
            failureThreshold: 3
          lifecycle:
            preStop:
              sleep:
                seconds: {{ $g.drain.preStopSeconds }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir:
            medium: Memory
            sizeLimit: 64Mi
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  labels:
    {{- include "taskmesh.labels" $ctx | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "taskmesh.selector" $ctx | nindent 4 }}
  ports:
    - name: grpc
      port: {{ $v.port }}
      targetPort: grpc
      protocol: TCP
      appProtocol: kubernetes.io/h2c
    {{- if $v.metricsPort }}
    - name: metrics
      port: {{ $v.metricsPort }}
      targetPort: metrics
      protocol: TCP
    {{- end }}
{{- if $v.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $name }}
  labels:
    {{- include "taskmesh.labels" $ctx | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $name }}
  minReplicas: {{ $v.autoscaling.minReplicas }}
  maxReplicas: {{ $v.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $v.autoscaling.targetCPUUtilizationPercentage }}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 300
{{- end }}
{{- if $v.pdb.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $name }}
  labels:
    {{- include "taskmesh.labels" $ctx | nindent 4 }}
spec:
  minAvailable: {{ $v.pdb.minAvailable }}
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector:
    matchLabels:
      {{- include "taskmesh.selector" $ctx | nindent 6 }}
{{- end }}
{{- end }}
{{- end }}
