# shellcheck shell=bash
# Certificates (openssl) and kubeconfigs for a throw-away cluster. Every run of 'up'
# makes a fresh CA; nothing here is meant to be secure beyond this machine.
# Sourced after common.sh; needs $KUBECTL and $NODE_IP.

# new_key NAME: an RSA key in $PKI_DIR/NAME.key.
new_key() {
  openssl genrsa -out "$PKI_DIR/$1.key" 2048 2>/dev/null
}

make_ca() {
  new_key ca
  openssl req -x509 -new -nodes -key "$PKI_DIR/ca.key" -sha256 -days 3650 \
    -subj "/CN=finetune-e2e-ca" -out "$PKI_DIR/ca.crt" 2>/dev/null
}

# issue_cert NAME SUBJECT USAGE [SANS]: key + cert signed by the CA.
# USAGE is clientAuth or serverAuth; SANS is an openssl subjectAltName value.
issue_cert() {
  local name="$1" subj="$2" usage="$3" sans="${4:-}" ext="$PKI_DIR/$1.ext"
  new_key "$name"
  openssl req -new -key "$PKI_DIR/$name.key" -subj "$subj" -out "$PKI_DIR/$name.csr" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [[ -n "$sans" ]] && echo "subjectAltName=$sans"
  } >"$ext"
  openssl x509 -req -in "$PKI_DIR/$name.csr" -CA "$PKI_DIR/ca.crt" -CAkey "$PKI_DIR/ca.key" \
    -CAcreateserial -days 365 -sha256 -extfile "$ext" -out "$PKI_DIR/$name.crt" 2>/dev/null
  rm -f "$PKI_DIR/$name.csr" "$ext"
}

# write_kubeconfig FILE CERTNAME: a kubeconfig for the API server authenticating with
# $PKI_DIR/CERTNAME.{crt,key}; certificates are embedded so the file can be copied.
write_kubeconfig() {
  local file="$1" cert="$2"
  rm -f "$file"
  "$KUBECTL" --kubeconfig="$file" config set-cluster finetune-e2e \
    --server="https://$NODE_IP:6443" --certificate-authority="$PKI_DIR/ca.crt" --embed-certs >/dev/null
  "$KUBECTL" --kubeconfig="$file" config set-credentials "$cert" \
    --client-certificate="$PKI_DIR/$cert.crt" --client-key="$PKI_DIR/$cert.key" --embed-certs >/dev/null
  "$KUBECTL" --kubeconfig="$file" config set-context finetune-e2e \
    --cluster=finetune-e2e --user="$cert" >/dev/null
  "$KUBECTL" --kubeconfig="$file" config use-context finetune-e2e >/dev/null
  chmod 600 "$file"
}

generate_pki() {
  mkdir -p "$PKI_DIR"
  chmod 700 "$PKI_DIR"
  make_ca
  issue_cert apiserver "/CN=kube-apiserver" serverAuth \
    "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$CLUSTER_DOMAIN,DNS:localhost,DNS:$NODE_NAME,IP:127.0.0.1,IP:$KUBERNETES_SVC_IP,IP:$NODE_IP"
  # Clients. Their CN/O are the identities the built-in RBAC roles expect.
  issue_cert admin "/O=system:masters/CN=finetune-e2e-admin" clientAuth
  issue_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  issue_cert controller-manager "/CN=system:kube-controller-manager" clientAuth
  issue_cert scheduler "/CN=system:kube-scheduler" clientAuth
  issue_cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
  issue_cert kube-proxy "/CN=system:kube-proxy" clientAuth
  # CoreDNS (a host process here) only reads Services, EndpointSlices, Pods and
  # Namespaces; in this throw-away cluster it simply gets system:masters instead of a
  # hand-written ClusterRole.
  issue_cert coredns "/O=system:masters/CN=finetune-e2e-coredns" clientAuth
  # Service-account token signing key pair.
  new_key sa
  openssl rsa -in "$PKI_DIR/sa.key" -pubout -out "$PKI_DIR/sa.pub" 2>/dev/null

  write_kubeconfig "$KUBECONFIG_ADMIN" admin
  local c
  for c in controller-manager scheduler kubelet kube-proxy coredns; do
    write_kubeconfig "$STATE_DIR/$c.kubeconfig" "$c"
  done
}
