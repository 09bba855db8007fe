package dev.finetune.trainer.data;

/**
 * Where a record came from: file, 1-based line and column (0 when unknown) and 0-based record index
 * within the file (-1 when unknown). Prints as {@code file:line:column (record N)}.
 */
public record SourceLocation(String file, int line, int column, int recordIndex) {

    public static SourceLocation ofFile(String file) {
        return new SourceLocation(file, 0, 0, -1);
    }

    public SourceLocation withColumn(int column) {
        return new SourceLocation(file, line, column, recordIndex);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(file);
        if (line > 0) {
            sb.append(':').append(line);
            if (column > 0) {
                sb.append(':').append(column);
            }
        }
        if (recordIndex >= 0) {
            sb.append(" (record ").append(recordIndex).append(')');
        }
        return sb.toString();
    }
}
