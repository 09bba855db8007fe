// Build-only module: kube-router's network policy controller alone, run as a host process
// that enforces NetworkPolicy on the e2e cluster (iptables + ipset, which this kernel has;
// it lacks the nftables queue expression that kube-network-policies needs).
//
// kube-router's own main also links its BGP router, IPVS service proxy and cloud SDKs; this
// one wires up only what its firewall needs, the way kube-router's pkg/cmd does when run
// with --run-firewall alone: informers, the health controller the policy controller reports
// heartbeats to, and the policy controller. All of kube-router's flags are accepted;
// --run-router and --run-service-proxy are forced off, --run-firewall on.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/cloudnativelabs/kube-router/v2/pkg/controllers/netpol"
	"github.com/cloudnativelabs/kube-router/v2/pkg/healthcheck"
	"github.com/cloudnativelabs/kube-router/v2/pkg/options"
	"github.com/spf13/pflag"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "netpol: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	klog.InitFlags(nil)
	config := options.NewKubeRouterConfig()
	config.AddFlags(pflag.CommandLine)
	pflag.Parse()
	if err := flag.Set("logtostderr", "true"); err != nil {
		return err
	}
	if err := flag.Set("v", config.VLevel); err != nil {
		return err
	}
	if config.Kubeconfig == "" {
		return fmt.Errorf("--kubeconfig is required (this enforcer runs on the host, not in a pod)")
	}
	if config.HostnameOverride == "" {
		return fmt.Errorf("--hostname-override is required: the Node whose pods this enforcer guards")
	}
	config.RunFirewall, config.RunRouter, config.RunServiceProxy, config.RunLoadBalancer = true, false, false, false

	restConfig, err := clientcmd.BuildConfigFromFlags("", config.Kubeconfig)
	if err != nil {
		return fmt.Errorf("reading --kubeconfig %s: %w", config.Kubeconfig, err)
	}
	client, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return err
	}

	var wg sync.WaitGroup
	stopCh := make(chan struct{})
	// The policy controller blocks on sending heartbeats: the health controller must drain them.
	healthChan := make(chan *healthcheck.ControllerHeartbeat, 10)
	hc, err := healthcheck.NewHealthController(config)
	if err != nil {
		return fmt.Errorf("health controller: %w", err)
	}
	wg.Add(1)
	go hc.RunServer(stopCh, &wg)

	factory := informers.NewSharedInformerFactory(client, 0)
	podInformer := factory.Core().V1().Pods().Informer()
	nsInformer := factory.Core().V1().Namespaces().Informer()
	npInformer := factory.Networking().V1().NetworkPolicies().Informer()
	factory.Start(stopCh)
	if err := waitForCaches(factory, stopCh, config.CacheSyncTimeout); err != nil {
		return err
	}
	hc.SetAlive()
	wg.Add(1)
	go hc.RunCheck(healthChan, stopCh, &wg)

	iptablesHandlers, ipsetHandlers, err := netpol.NewIPTablesHandlers(config)
	if err != nil {
		return fmt.Errorf("iptables/ipset handlers: %w", err)
	}
	var ipsetMutex sync.Mutex
	npc, err := netpol.NewNetworkPolicyController(client, config, podInformer, npInformer, nsInformer,
		&ipsetMutex, iptablesHandlers, ipsetHandlers)
	if err != nil {
		return fmt.Errorf("network policy controller: %w", err)
	}
	if _, err := podInformer.AddEventHandler(npc.PodEventHandler); err != nil {
		return err
	}
	if _, err := nsInformer.AddEventHandler(npc.NamespaceEventHandler); err != nil {
		return err
	}
	if _, err := npInformer.AddEventHandler(npc.NetworkPolicyEventHandler); err != nil {
		return err
	}
	wg.Add(1)
	go npc.Run(healthChan, stopCh, &wg)

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	<-signals
	klog.Info("stopping the network policy controller (its iptables rules stay until teardown removes them)")
	close(stopCh)
	wg.Wait()
	return nil
}

func waitForCaches(factory informers.SharedInformerFactory, stopCh <-chan struct{}, timeout time.Duration) error {
	synced := make(chan struct{})
	go func() {
		factory.WaitForCacheSync(stopCh)
		close(synced)
	}()
	select {
	case <-synced:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("informer caches did not sync within %s (is the API server reachable?)", timeout)
	}
}
