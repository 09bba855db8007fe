package dev.finetune.trainer.dist;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Collectives over TCP for CPU workers: rank 0 listens on the rendezvous port, every other rank connects
 * (retrying until the timeout) and announces its rank. An all-reduce is a gather to rank 0, a sum in rank
 * order in fp64, and a broadcast of the result. LoRA gradients are a few MB, so a star is enough; GPU
 * processes reduce gradients with NCCL ({@link NcclCollective}) and keep this group for the rendezvous and
 * the small fp64 sums.
 */
public final class TcpCollective implements Collective {

    private static final int MAGIC = 0x46544331; // "FTC1"
    private static final int MAX_BROADCAST_BYTES = 1 << 20;

    private final int rank;
    private final int world;
    private final ServerSocket server;
    private final List<Socket> peers; // rank 0: index r-1 holds rank r
    private final List<DataInputStream> in = new ArrayList<>();
    private final List<DataOutputStream> out = new ArrayList<>();

    private TcpCollective(int rank, int world, ServerSocket server, List<Socket> peers) throws IOException {
        this.rank = rank;
        this.world = world;
        this.server = server;
        this.peers = peers;
        for (Socket s : peers) {
            in.add(new DataInputStream(new BufferedInputStream(s.getInputStream(), 1 << 16)));
            out.add(new DataOutputStream(new BufferedOutputStream(s.getOutputStream(), 1 << 16)));
        }
    }

    /** Forms the group; blocks until all {@code world} ranks are connected or {@code timeout} passes. */
    public static TcpCollective connect(int rank, int world, String host, int port, Duration timeout) {
        return connect(rank, world, host, port, timeout, Duration.ZERO);
    }

    /**
     * Forms the group as {@link #connect(int, int, String, int, Duration)}; afterwards a collective that
     * waits longer than {@code collectiveTimeout} for a peer fails with {@link CommunicationException}
     * (a peer that hangs without closing its socket would otherwise block the gang for ever).
     * {@link Duration#ZERO} waits without limit.
     */
    public static TcpCollective connect(int rank, int world, String host, int port, Duration timeout,
            Duration collectiveTimeout) {
        TcpCollective group = form(rank, world, host, port, timeout);
        try {
            int millis = (int) Math.min(Integer.MAX_VALUE, collectiveTimeout.toMillis());
            for (Socket s : group.peers) {
                s.setSoTimeout(millis);
            }
        } catch (IOException e) {
            group.close();
            throw new CommunicationException("cannot set the collective timeout: " + e.getMessage(), e);
        }
        return group;
    }

    private static TcpCollective form(int rank, int world, String host, int port, Duration timeout) {
        if (rank < 0 || rank >= world) {
            throw new IllegalArgumentException("rank " + rank + " is outside world size " + world);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            if (rank == 0) {
                ServerSocket server = new ServerSocket();
                server.setReuseAddress(true);
                server.bind(new InetSocketAddress(port));
                Socket[] byRank = new Socket[world];
                for (int connected = 1; connected < world; connected++) {
                    int left = (int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
                    server.setSoTimeout(left);
                    Socket s = server.accept();
                    s.setTcpNoDelay(true);
                    DataInputStream hello = new DataInputStream(s.getInputStream());
                    if (hello.readInt() != MAGIC) {
                        s.close();
                        connected--;
                        continue;
                    }
                    int peer = hello.readInt();
                    int peerWorld = hello.readInt();
                    if (peer <= 0 || peer >= world || byRank[peer] != null || peerWorld != world) {
                        s.close();
                        throw new IOException("rendezvous: unexpected peer rank " + peer + " of world " + peerWorld);
                    }
                    byRank[peer] = s;
                }
                List<Socket> peers = new ArrayList<>();
                for (int r = 1; r < world; r++) {
                    peers.add(byRank[r]);
                }
                return new TcpCollective(rank, world, server, peers);
            }
            IOException last = null;
            while (System.nanoTime() < deadline) {
                try {
                    Socket s = new Socket();
                    s.connect(new InetSocketAddress(host, port), 2000);
                    s.setTcpNoDelay(true);
                    DataOutputStream hello = new DataOutputStream(s.getOutputStream());
                    hello.writeInt(MAGIC);
                    hello.writeInt(rank);
                    hello.writeInt(world);
                    hello.flush();
                    return new TcpCollective(rank, world, null, List.of(s));
                } catch (IOException e) {
                    last = e;
                    Thread.sleep(200);
                }
            }
            throw new IOException("rank " + rank + " could not reach rank 0 at " + host + ":" + port, last);
        } catch (IOException e) {
            throw new CommunicationException("rendezvous failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CommunicationException("rendezvous interrupted", e);
        }
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int worldSize() {
        return world;
    }

    @Override
    public double[] allReduceSum(double[] values) {
        try {
            if (rank == 0) {
                double[] sum = values.clone();
                for (int p = 0; p < in.size(); p++) {
                    double[] other;
                    try {
                        other = readDoubles(in.get(p), values.length);
                    } catch (IOException e) {
                        throw new CommunicationException("all-reduce failed on rank 0: rank " + (p + 1) + " "
                                + cause(e), e);
                    }
                    for (int i = 0; i < sum.length; i++) {
                        sum[i] += other[i];
                    }
                }
                for (DataOutputStream o : out) {
                    writeDoubles(o, sum);
                }
                return sum;
            }
            writeDoubles(out.getFirst(), values);
            return readDoubles(in.getFirst(), values.length);
        } catch (IOException e) {
            throw new CommunicationException("all-reduce failed on rank " + rank + ": " + (rank == 0 ? "a peer " : "rank 0 ")
                    + cause(e), e);
        }
    }

    @Override
    public float[] allReduceSum(float[] values) {
        double[] wide = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            wide[i] = values[i];
        }
        double[] sum = allReduceSum(wide);
        float[] result = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = (float) sum[i];
        }
        return result;
    }

    /**
     * Rank 0's {@code bytes} on every rank (other ranks pass null); used to hand out NCCL's unique id.
     */
    public byte[] broadcastFromRankZero(byte[] bytes) {
        try {
            if (rank == 0) {
                for (DataOutputStream o : out) {
                    o.writeInt(bytes.length);
                    o.write(bytes);
                    o.flush();
                }
                return bytes.clone();
            }
            DataInputStream i = in.getFirst();
            int n = i.readInt();
            if (n < 0 || n > MAX_BROADCAST_BYTES) {
                throw new IOException("rank 0 announced " + n + " bytes (ranks out of step)");
            }
            byte[] received = new byte[n];
            i.readFully(received);
            return received;
        } catch (IOException e) {
            throw new CommunicationException("broadcast from rank 0 failed on rank " + rank + ": "
                    + (rank == 0 ? "a peer " : "rank 0 ") + cause(e), e);
        }
    }

    /** Says what an I/O failure on a peer connection means; an EOF has no message of its own. */
    private static String cause(IOException e) {
        if (e instanceof java.io.EOFException) {
            return "closed the connection (the peer process exited or its pod was deleted)";
        }
        if (e instanceof java.net.SocketTimeoutException) {
            return "sent nothing within the collective timeout (" + e.getMessage() + ")";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private static void writeDoubles(DataOutputStream o, double[] v) throws IOException {
        o.writeInt(v.length);
        for (double d : v) {
            o.writeDouble(d);
        }
        o.flush();
    }

    private static double[] readDoubles(DataInputStream i, int expected) throws IOException {
        int n = i.readInt();
        if (n != expected) {
            throw new IOException("peer sent " + n + " values, expected " + expected + " (ranks out of step)");
        }
        double[] v = new double[n];
        for (int k = 0; k < n; k++) {
            v[k] = i.readDouble();
        }
        return v;
    }

    @Override
    public void close() {
        for (Socket s : peers) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
        }
        if (server != null) {
            try {
                server.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }
}
