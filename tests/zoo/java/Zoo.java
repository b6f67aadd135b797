// Zoo program for the HotSpot heap test (tests/integration/test_heap_java.py).
// Allocates about MIB MiB of live objects (argument 1, default 200) in 1 MiB byte arrays, starts
// three named threads that wait, then prints ONE JSON line with the JVM's own view of its heap
// (Runtime.totalMemory/maxMemory, the memory pools of java.lang.management) and the names of the
// threads it started. It answers "stats" on stdin with a fresh line and exits on EOF.
// The test itself asks Native Memory Tracking (jcmd PID VM.native_memory summary): it owns the
// process, so it may attach; vmscope never does.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

public class Zoo {
    static final List<byte[]> live = new ArrayList<>();
    static final CountDownLatch forever = new CountDownLatch(1);

    static String stats(List<String> names) {
        Runtime rt = Runtime.getRuntime();
        StringBuilder sb = new StringBuilder();
        sb.append("{\"pid\":").append(ProcessHandle.current().pid());
        sb.append(",\"live_bytes\":").append((long) live.size() << 20);
        sb.append(",\"total_memory\":").append(rt.totalMemory());
        sb.append(",\"max_memory\":").append(rt.maxMemory());
        sb.append(",\"pools\":{");
        boolean first = true;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (!first) sb.append(',');
            first = false;
            sb.append('"').append(p.getName().replace("\"", "'")).append("\":{\"committed\":")
              .append(p.getUsage().getCommitted()).append(",\"max\":").append(p.getUsage().getMax()).append('}');
        }
        sb.append("},\"threads\":[");
        for (int i = 0; i < names.size(); i++)
            sb.append(i > 0 ? "," : "").append('"').append(names.get(i)).append('"');
        sb.append("]}");
        return sb.toString();
    }

    public static void main(String[] args) throws Exception {
        int mib = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        for (int i = 0; i < mib; i++) {
            byte[] b = new byte[1 << 20];
            for (int k = 0; k < b.length; k += 4096)
                b[k] = (byte) i; // touch every page
            live.add(b);
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String name = "zoo-worker-" + i;
            Thread t = new Thread(() -> {
                try {
                    forever.await();
                } catch (InterruptedException e) {
                    // exit
                }
            }, name);
            t.setDaemon(true);
            t.start();
            names.add(name);
        }
        System.out.println(stats(names));
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.trim().equals("stats")) {
                System.out.println(stats(names));
                System.out.flush();
            }
        }
        forever.countDown();
    }
}
