package dev.finetune.trainer.data.format;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.trainer.data.DatasetException;
import dev.finetune.trainer.data.SourceLocation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Reads dataset records from a {@code .json} file (an array of objects, or one object), a {@code .jsonl}
 * file (one object per line, blank lines ignored) or a directory of such files (sorted by name, not
 * recursive). A {@code .json} file whose first object is followed by more text is JSON Lines and is read as
 * such. Bytes must be UTF-8; a byte-order mark is ignored.
 *
 * <p>Errors name file, line and column. With a {@code skipped} consumer, a malformed JSONL line is
 * reported to it and reading goes on; syntax errors inside a {@code .json} array always fail, because
 * nothing after them can be trusted.
 */
public final class RecordReader {

    private static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .enable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION).build());

    private RecordReader() {
    }

    /** The files a dataset path stands for, in reading order. */
    public static List<Path> files(Path path) {
        if (!Files.exists(path)) {
            throw new DatasetException(SourceLocation.ofFile(path.toString()), null, "dataset path does not exist",
                    "check dataset.pvc.path (and the volume mount)");
        }
        if (!Files.isDirectory(path)) {
            if (!Files.isRegularFile(path)) {
                // a FIFO or a device would block the read (a FIFO until something writes to it) or never end
                throw new DatasetException(SourceLocation.ofFile(path.toString()), null,
                        "is not a regular file (a FIFO, socket or device)", "point the dataset at a .json or .jsonl file "
                                + "or a directory of them; to stream data in, write it to a file first");
            }
            return List.of(path);
        }
        try (Stream<Path> s = Files.list(path)) {
            List<Path> files = s.filter(Files::isRegularFile).filter(RecordReader::isDataFile).sorted().toList();
            if (files.isEmpty()) {
                throw new DatasetException(SourceLocation.ofFile(path.toString()), null,
                        "directory holds no .json or .jsonl files", "put the dataset files directly in this directory");
            }
            return files;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static boolean isDataFile(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".json") || n.endsWith(".jsonl");
    }

    /** All records of all files under {@code path}. */
    public static List<RawRecord> read(Path path, Consumer<DatasetException> skipped) {
        List<RawRecord> out = new ArrayList<>();
        for (Path f : files(path)) {
            out.addAll(readFile(f, skipped));
        }
        return out;
    }

    public static List<RawRecord> readFile(Path file, Consumer<DatasetException> skipped) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new DatasetException(SourceLocation.ofFile(file.toString()), null, "cannot read: " + e.getMessage(),
                    "check the file's permissions on the volume", e);
        }
        String name = file.toString();
        checkUtf8(bytes, name);
        String text = new String(bytes, StandardCharsets.UTF_8);
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        boolean jsonl = name.toLowerCase(Locale.ROOT).endsWith(".jsonl")
                || (!name.toLowerCase(Locale.ROOT).endsWith(".json") && !text.stripLeading().startsWith("["));
        if (!jsonl && holdsJsonLines(text)) {
            // JSON Lines saved as .json (common on the Hugging Face hub, whose json loader reads both): read its lines
            jsonl = true;
        }
        return jsonl ? readJsonLines(text, name, skipped) : readJsonDocument(text, name);
    }

    /**
     * Whether a {@code .json} file's text is JSON Lines: an object, then more text after it. Read as one document it
     * would yield its first record and ignore the rest.
     */
    static boolean holdsJsonLines(String text) {
        try (JsonParser p = MAPPER.createParser(text)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return false;
            }
            p.skipChildren();
            return p.nextToken() != null;
        } catch (IOException e) {
            return false; // a syntax error: reading it as one document reports it with its position
        }
    }

    private static List<RawRecord> readJsonLines(String text, String file, Consumer<DatasetException> skipped) {
        List<RawRecord> out = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        int index = 0;
        for (int k = 0; k < lines.length; k++) {
            String line = lines[k].endsWith("\r") ? lines[k].substring(0, lines[k].length() - 1) : lines[k];
            if (line.isBlank()) {
                continue;
            }
            SourceLocation loc = new SourceLocation(file, k + 1, 0, index++);
            try {
                JsonNode node;
                try (JsonParser p = MAPPER.createParser(line)) {
                    node = p.readValueAsTree();
                    if (p.nextToken() != null) {
                        JsonLocation l = p.currentTokenLocation();
                        throw new DatasetException(loc.withColumn(l.getColumnNr()), null,
                                "unexpected text after the JSON object", "write exactly one JSON object per line");
                    }
                }
                requireObject(node, loc);
                out.add(new RawRecord(node, loc));
            } catch (JsonProcessingException e) {
                DatasetException de = syntaxError(e, new SourceLocation(file, k + 1, 0, loc.recordIndex()), true);
                report(de, skipped);
            } catch (DatasetException de) {
                report(de, skipped);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    private static void report(DatasetException e, Consumer<DatasetException> skipped) {
        if (skipped == null) {
            throw e;
        }
        skipped.accept(e);
    }

    private static List<RawRecord> readJsonDocument(String text, String file) {
        List<RawRecord> out = new ArrayList<>();
        try (JsonParser p = MAPPER.createParser(text)) {
            JsonToken first = p.nextToken();
            if (first == null) {
                return out;
            }
            if (first == JsonToken.START_OBJECT) {
                JsonLocation l = p.currentTokenLocation();
                JsonNode node = p.readValueAsTree();
                out.add(new RawRecord(node, new SourceLocation(file, l.getLineNr(), l.getColumnNr(), 0)));
                p.nextToken(); // text after the object fails here, with its position, instead of being ignored
                return out;
            }
            if (first != JsonToken.START_ARRAY) {
                JsonLocation l = p.currentTokenLocation();
                throw new DatasetException(new SourceLocation(file, l.getLineNr(), l.getColumnNr(), -1), null,
                        "expected a JSON array of records or one record object, found " + first.asString(),
                        "wrap the records in [ ... ], or use .jsonl with one object per line");
            }
            int index = 0;
            while (p.nextToken() != JsonToken.END_ARRAY) {
                JsonLocation l = p.currentTokenLocation();
                SourceLocation loc = new SourceLocation(file, l.getLineNr(), l.getColumnNr(), index++);
                JsonNode node = p.readValueAsTree();
                requireObject(node, loc);
                out.add(new RawRecord(node, loc));
            }
            if (p.nextToken() != null) {
                JsonLocation l = p.currentTokenLocation();
                throw new DatasetException(new SourceLocation(file, l.getLineNr(), l.getColumnNr(), -1), null,
                        "unexpected text after the closing ]", "remove it, or split the file");
            }
        } catch (JsonProcessingException e) {
            throw syntaxError(e, new SourceLocation(file, 0, 0, -1), false);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static void requireObject(JsonNode node, SourceLocation loc) {
        if (node == null || !node.isObject()) {
            throw new DatasetException(loc, null, "record is " + (node == null ? "empty" : "a JSON " + kind(node))
                    + ", expected a JSON object", "each record must be an object such as {\"instruction\": ..., \"output\": ...}");
        }
    }

    /** The node's kind with its article: "an array", "a string". */
    static String article(JsonNode n) {
        String kind = kind(n);
        return ("aeiou".indexOf(kind.charAt(0)) >= 0 ? "an " : "a ") + kind;
    }

    static String kind(JsonNode n) {
        return switch (n.getNodeType()) {
            case ARRAY -> "array";
            case STRING -> "string";
            case NUMBER -> "number";
            case BOOLEAN -> "boolean";
            case NULL -> "null";
            case OBJECT, POJO -> "object";
            default -> n.getNodeType().name().toLowerCase(Locale.ROOT);
        };
    }

    private static DatasetException syntaxError(JsonProcessingException e, SourceLocation base, boolean lineIsKnown) {
        JsonLocation l = e.getLocation();
        int line = lineIsKnown ? base.line() : (l == null ? 0 : l.getLineNr());
        int column = l == null ? 0 : l.getColumnNr();
        String msg = e.getOriginalMessage();
        return new DatasetException(new SourceLocation(base.file(), line, column, base.recordIndex()), null,
                "malformed JSON: " + msg, "fix the JSON syntax at that position (a JSON validator such as `jq . file` shows it)", e);
    }

    /**
     * Fails on the first byte sequence that is not UTF-8, naming its line and column. Two kinds of file are named for
     * what they are, since re-encoding from Latin-1 would not help: UTF-16 text (its byte-order mark) and gzip.
     */
    static void checkUtf8(byte[] b, String file) {
        if (b.length >= 2 && ((b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xfe || (b[0] & 0xff) == 0xfe && (b[1] & 0xff) == 0xff)) {
            throw new DatasetException(new SourceLocation(file, 1, 1, -1), null,
                    "is UTF-16 text (it starts with a UTF-16 byte-order mark), not UTF-8",
                    "re-encode the file as UTF-8, e.g. `iconv -f utf-16 -t utf-8 in.jsonl > out.jsonl`");
        }
        if (b.length >= 2 && (b[0] & 0xff) == 0x1f && (b[1] & 0xff) == 0x8b) {
            throw new DatasetException(new SourceLocation(file, 1, 1, -1), null,
                    "is gzip-compressed, not UTF-8 text", "decompress it first, e.g. `gunzip -k file.jsonl.gz`");
        }
        int line = 1;
        int column = 1;
        int i = 0;
        while (i < b.length) {
            int c = b[i] & 0xff;
            int need;
            int min;
            if (c < 0x80) {
                need = 0;
                min = 0;
            } else if (c >= 0xc2 && c <= 0xdf) {
                need = 1;
                min = 0x80;
            } else if (c >= 0xe0 && c <= 0xef) {
                need = 2;
                min = 0x800;
            } else if (c >= 0xf0 && c <= 0xf4) {
                need = 3;
                min = 0x10000;
            } else {
                throw notUtf8(file, line, column, c);
            }
            int cp = need == 0 ? c : c & (0x3f >> need);
            for (int k = 1; k <= need; k++) {
                if (i + k >= b.length || (b[i + k] & 0xc0) != 0x80) {
                    throw notUtf8(file, line, column, c);
                }
                cp = (cp << 6) | (b[i + k] & 0x3f);
            }
            if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
                throw notUtf8(file, line, column, c);
            }
            i += need + 1;
            if (c == '\n') {
                line++;
                column = 1;
            } else {
                column++;
            }
        }
    }

    private static DatasetException notUtf8(String file, int line, int column, int b) {
        return new DatasetException(new SourceLocation(file, line, column, -1), null,
                String.format("not valid UTF-8 (byte 0x%02X)", b),
                "re-encode the file as UTF-8, e.g. `iconv -f latin1 -t utf-8 in.json > out.json`");
    }
}
