{{/* Names, labels and the image reference shared by every template. */}}

{{- define "kci.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kci.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "kci.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "kci.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kci.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kci.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kci.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "kci.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: invalidator
app.kubernetes.io/part-of: openstack
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "kci.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "kci.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kci.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Where the chart mounts what the daemon reads; config.yaml points at these paths. */}}
{{- define "kci.paths" -}}
config: /etc/keystone-cache-invalidator
transportUrl: /etc/keystone-cache-invalidator/transport-url
amqpTls: /etc/keystone-cache-invalidator/tls/amqp
memcachedTls: /etc/keystone-cache-invalidator/tls/memcached
revocations: /etc/keystone-cache-invalidator/keystone
keystoneTls: /etc/keystone-cache-invalidator/tls/keystone
{{- end -}}

{{/*
The daemon's config.yaml: the values' config, plus what the chart owns (the transport URL file, the
TLS file paths, the HTTP listener). Refuses to render without the site-specific values.
*/}}
{{- define "kci.config" -}}
{{- $paths := include "kci.paths" . | fromYaml -}}
{{- $config := deepCopy .Values.config -}}
{{- $_ := required "config.region is required: this region's name, as in the Keystone catalog" .Values.config.region -}}
{{- if not .Values.config.memcached.servers -}}
{{- fail "config.memcached.servers is required: every memcached server of the region" -}}
{{- end -}}
{{- $_ := required "transportUrl.existingSecret is required: a Secret holding the central transport_url" .Values.transportUrl.existingSecret -}}
{{- $amqp := $config.amqp | default dict -}}
{{- $_ := set $amqp "urlFile" (printf "%s/url" $paths.transportUrl) -}}
{{- with .Values.tls.amqp -}}
{{- if .existingSecret -}}
{{- $tls := $amqp.tls | default dict -}}
{{- if .caKey }}{{ $_ := set $tls "caFile" (printf "%s/ca.pem" $paths.amqpTls) }}{{ end -}}
{{- if .certKey }}{{ $_ := set $tls "certFile" (printf "%s/cert.pem" $paths.amqpTls) }}{{ end -}}
{{- if .keyKey }}{{ $_ := set $tls "keyFile" (printf "%s/key.pem" $paths.amqpTls) }}{{ end -}}
{{- if .passphraseKey }}{{ $_ := set $tls "keyPassphraseFile" (printf "%s/key-passphrase" $paths.amqpTls) }}{{ end -}}
{{- $_ := set $amqp "tls" $tls -}}
{{- end -}}
{{- end -}}
{{- $_ := set $config "amqp" $amqp -}}
{{- $memcached := $config.memcached -}}
{{- with .Values.tls.memcached -}}
{{- if .existingSecret -}}
{{- $tls := $memcached.tls | default dict -}}
{{- if .caKey }}{{ $_ := set $tls "caFile" (printf "%s/ca.pem" $paths.memcachedTls) }}{{ end -}}
{{- if .certKey }}{{ $_ := set $tls "certFile" (printf "%s/cert.pem" $paths.memcachedTls) }}{{ end -}}
{{- if .keyKey }}{{ $_ := set $tls "keyFile" (printf "%s/key.pem" $paths.memcachedTls) }}{{ end -}}
{{- if .passphraseKey }}{{ $_ := set $tls "keyPassphraseFile" (printf "%s/key-passphrase" $paths.memcachedTls) }}{{ end -}}
{{- $_ := set $memcached "tls" $tls -}}
{{- end -}}
{{- end -}}
{{- $revocations := $config.revocations | default dict -}}
{{- if $revocations.enabled -}}
{{- $_ := required "revocations.existingSecret is required when config.revocations.enabled: a Secret holding the poller's secret" .Values.revocations.existingSecret -}}
{{- if or $revocations.applicationCredentialId $revocations.applicationCredentialName -}}
{{- $_ := set $revocations "applicationCredentialSecretFile" (printf "%s/secret" $paths.revocations) -}}
{{- else -}}
{{- $_ := set $revocations "passwordFile" (printf "%s/secret" $paths.revocations) -}}
{{- end -}}
{{- with .Values.tls.keystone -}}
{{- if .existingSecret -}}
{{- $tls := $revocations.tls | default dict -}}
{{- if .caKey }}{{ $_ := set $tls "caFile" (printf "%s/ca.pem" $paths.keystoneTls) }}{{ end -}}
{{- if .certKey }}{{ $_ := set $tls "certFile" (printf "%s/cert.pem" $paths.keystoneTls) }}{{ end -}}
{{- if .keyKey }}{{ $_ := set $tls "keyFile" (printf "%s/key.pem" $paths.keystoneTls) }}{{ end -}}
{{- if .passphraseKey }}{{ $_ := set $tls "keyPassphraseFile" (printf "%s/key-passphrase" $paths.keystoneTls) }}{{ end -}}
{{- $_ := set $revocations "tls" $tls -}}
{{- end -}}
{{- end -}}
{{- $_ := set $config "revocations" $revocations -}}
{{- end -}}
{{- $_ := set $config "http" (dict "host" "0.0.0.0" "port" (int .Values.service.port)) -}}
{{- toYaml $config -}}
{{- end -}}

{{/* Volume items for one TLS Secret: only the keys that are set. */}}
{{- define "kci.tlsItems" -}}
{{- if .caKey }}
- key: {{ .caKey }}
  path: ca.pem
{{- end }}
{{- if .certKey }}
- key: {{ .certKey }}
  path: cert.pem
{{- end }}
{{- if .keyKey }}
- key: {{ .keyKey }}
  path: key.pem
{{- end }}
{{- if .passphraseKey }}
- key: {{ .passphraseKey }}
  path: key-passphrase
{{- end }}
{{- end -}}

{{/* The daemon's mounts: its configuration and the Secrets it reads (the declare init container's too). */}}
{{- define "kci.volumeMounts" -}}
{{- $paths := include "kci.paths" . | fromYaml -}}
- name: config
  mountPath: {{ $paths.config }}/config.yaml
  subPath: config.yaml
  readOnly: true
- name: transport-url
  mountPath: {{ $paths.transportUrl }}
  readOnly: true
{{- if .Values.tls.amqp.existingSecret }}
- name: amqp-tls
  mountPath: {{ $paths.amqpTls }}
  readOnly: true
{{- end }}
{{- if .Values.tls.memcached.existingSecret }}
- name: memcached-tls
  mountPath: {{ $paths.memcachedTls }}
  readOnly: true
{{- end }}
{{- if .Values.revocations.existingSecret }}
- name: revocations
  mountPath: {{ $paths.revocations }}
  readOnly: true
{{- end }}
{{- if .Values.tls.keystone.existingSecret }}
- name: keystone-tls
  mountPath: {{ $paths.keystoneTls }}
  readOnly: true
{{- end }}
{{- end }}
