package dev.finetune.trainer.data.batch;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.TreeMap;

/** Best-fit decreasing bin packing of sample lengths into rows of a fixed capacity. */
public final class Packer {
    private Packer() {
    }

    /**
     * Groups sample indices into rows whose total length is at most {@code capacity}: samples longest first,
     * each into the row with the least room that still fits it, else a new row. Deterministic (ties by index).
     *
     * @throws IllegalArgumentException if a sample is longer than capacity (truncate first)
     */
    public static List<List<Integer>> pack(int[] lengths, int capacity) {
        List<Integer> order = new ArrayList<>(lengths.length);
        for (int k = 0; k < lengths.length; k++) {
            if (lengths[k] > capacity) {
                throw new IllegalArgumentException("sample " + k + " has " + lengths[k] + " tokens, more than the row capacity " + capacity);
            }
            order.add(k);
        }
        order.sort(Comparator.<Integer>comparingInt(k -> -lengths[k]).thenComparingInt(k -> k));
        List<List<Integer>> rows = new ArrayList<>();
        List<Integer> room = new ArrayList<>();
        TreeMap<Integer, Deque<Integer>> byRoom = new TreeMap<>();
        for (int k : order) {
            var fit = byRoom.ceilingEntry(lengths[k]);
            int row;
            if (fit == null) {
                row = rows.size();
                rows.add(new ArrayList<>());
                room.add(capacity);
            } else {
                row = fit.getValue().pollFirst();
                if (fit.getValue().isEmpty()) {
                    byRoom.remove(fit.getKey());
                }
            }
            rows.get(row).add(k);
            int left = room.get(row) - lengths[k];
            room.set(row, left);
            if (left > 0) {
                byRoom.computeIfAbsent(left, x -> new ArrayDeque<>()).addLast(row);
            }
        }
        return rows;
    }
}
