package io.logferry.esnode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.Comparator;
import java.util.stream.Stream;

import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.common.transport.TransportAddress;
import org.elasticsearch.env.Environment;
import org.elasticsearch.http.HttpServerTransport;
import org.elasticsearch.index.mapper.MapperExtrasPlugin;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.reindex.ReindexPlugin;
import org.elasticsearch.transport.Netty4Plugin;

/**
 * Runs one single-node Elasticsearch 7.17 cluster in this JVM for tests.
 *
 * Usage: Launcher HOME_DIR DATA_DIR HTTP_PORT [--watch-stdin] [--ephemeral]
 *
 * Prints "ESNODE_URL=http://127.0.0.1:PORT" on stdout once HTTP is bound (and writes the URL
 * to HOME_DIR/url), then runs until SIGTERM/SIGINT, or, with --watch-stdin, until stdin closes
 * (so a parent that dies without signalling still takes the node down). With --ephemeral, a
 * node that started deletes DATA_DIR and HOME_DIR when it shuts down, so a crashed parent does
 * not leave gigabytes of test indices behind; a node that failed to start keeps them, so its
 * log can be read.
 */
public final class Launcher {

    /** Node's constructor that accepts classpath plugins is protected: this is the only way in. */
    static final class EmbeddedNode extends Node {
        EmbeddedNode(Environment env, Collection<Class<? extends Plugin>> plugins) {
            super(env, plugins, true);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: Launcher HOME_DIR DATA_DIR HTTP_PORT [--watch-stdin] [--ephemeral]");
            System.exit(2);
        }
        Path home = Paths.get(args[0]).toAbsolutePath();
        Path data = Paths.get(args[1]).toAbsolutePath();
        String port = args[2];
        boolean watchStdin = Arrays.asList(args).contains("--watch-stdin");
        boolean ephemeral = Arrays.asList(args).contains("--ephemeral");
        Files.createDirectories(home.resolve("config"));
        Files.createDirectories(data);

        Settings settings = Settings.builder()
            .put("cluster.name", System.getProperty("esnode.cluster", "logferry-test"))
            .put("node.name", System.getProperty("esnode.name", "esnode"))
            .put("path.home", home.toString())
            .put("path.data", data.toString())
            .put("network.host", "127.0.0.1")
            .put("http.port", port)
            .put("transport.port", "0")
            .put("discovery.type", "single-node")
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            // No x-pack on this classpath; keep the node from looking for ML/security settings.
            .put("action.auto_create_index", true)
            .build();

        Environment env = InternalSettingsPreparer.prepareEnvironment(
            settings, Collections.emptyMap(), home.resolve("config"), () -> "esnode");
        List<Class<? extends Plugin>> plugins = Arrays.asList(
            Netty4Plugin.class, ReindexPlugin.class, MapperExtrasPlugin.class);
        Node node = new EmbeddedNode(env, plugins);

        CountDownLatch closed = new CountDownLatch(1);
        boolean[] started = {false};
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                if (ephemeral && started[0]) {
                    deleteTree(data);
                    deleteTree(home);
                }
            } catch (IOException e) {
                e.printStackTrace();
            } finally {
                closed.countDown();
            }
        }, "esnode-shutdown"));

        node.start();
        started[0] = true;
        TransportAddress addr = node.injector().getInstance(HttpServerTransport.class)
            .boundAddress().publishAddress();
        String url = "http://127.0.0.1:" + addr.getPort();
        // Write then rename so a reader never sees a half-written file.
        Path tmp = home.resolve("url.tmp");
        Files.write(tmp, url.getBytes(StandardCharsets.UTF_8));
        Files.move(tmp, home.resolve("url"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        System.out.println("ESNODE_URL=" + url);
        System.out.flush();

        if (watchStdin) {
            InputStream in = System.in;
            byte[] buf = new byte[256];
            while (in.read(buf) >= 0) {
                // Anything written is ignored; only EOF matters.
            }
            System.exit(0);
        }
        closed.await();
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
