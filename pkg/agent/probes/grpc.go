package probes

import (
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	corev1 "k8s.io/api/core/v1"
)

// grpc runs the standard grpc.health.v1 Check against the pod address.
func (p *Prober) grpc(ctx context.Context, t Target, a *corev1.GRPCAction, timeout time.Duration) Outcome {
	if a.Port <= 0 || a.Port > 65535 {
		return unknown("invalid port number: %d", a.Port)
	}
	if p.simulated {
		return Outcome{Result: Success}
	}
	addr := net.JoinHostPort(t.PodIP, strconv.Itoa(int(a.Port)))
	creds := insecure.NewCredentials()
	if a.Mode != nil && *a.Mode == corev1.GRPCProbeModeTLS {
		creds = credentials.NewTLS(&tls.Config{InsecureSkipVerify: true}) // pods serve self-signed certificates
	}
	conn, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(creds),
		grpc.WithUserAgent(p.userAgent),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			return p.dial(ctx, "tcp", addr)
		}),
	)
	if err != nil {
		return unknown("grpc client for %s: %v", addr, err)
	}
	defer conn.Close()
	service := ""
	if a.Service != nil {
		service = *a.Service
	}
	res, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service}, grpc.WaitForReady(true))
	if err != nil {
		switch status.Code(err) {
		case codes.Unimplemented:
			return failure("this server does not implement the grpc health protocol (grpc.health.v1.Health): %s", status.Convert(err).Message())
		case codes.DeadlineExceeded:
			if conn.GetState().String() != "READY" {
				return failure("timeout: failed to connect service %q within %v", addr, timeout)
			}
			return failure("timeout: health rpc did not complete within %v", timeout)
		}
		return failure("health rpc probe failed: %v", err)
	}
	if res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return failure("service unhealthy (responded with %q)", res.GetStatus().String())
	}
	return Outcome{Result: Success, Message: "service healthy"}
}
