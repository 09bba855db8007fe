package dev.finetune.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import org.luaj.vm2.Globals;
import org.luaj.vm2.LuaTable;
import org.luaj.vm2.LuaValue;
import org.luaj.vm2.lib.jse.JsePlatform;

/** Runs an Argo CD resource-customization script under LuaJ the way Argo CD runs it: global obj set to the resource. */
final class LuaJ {

    private static final ObjectMapper JSON = new ObjectMapper();

    private LuaJ() {
    }

    /** What the script returns for the resource, as JSON (a Lua table without array part becomes an object). */
    static JsonNode run(Path script, JsonNode resource) {
        Globals globals = JsePlatform.standardGlobals();
        globals.set("obj", toLua(resource));
        try {
            return fromLua(globals.load(Files.readString(script), script.getFileName().toString()).call());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static LuaValue toLua(JsonNode node) {
        if (node.isObject()) {
            LuaTable table = new LuaTable();
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                var e = it.next();
                table.set(e.getKey(), toLua(e.getValue()));
            }
            return table;
        }
        if (node.isArray()) {
            LuaTable table = new LuaTable();
            for (int i = 0; i < node.size(); i++) {
                table.set(i + 1, toLua(node.get(i)));
            }
            return table;
        }
        if (node.isIntegralNumber()) {
            return LuaValue.valueOf(node.asLong());
        }
        if (node.isNumber()) {
            return LuaValue.valueOf(node.asDouble());
        }
        if (node.isBoolean()) {
            return LuaValue.valueOf(node.asBoolean());
        }
        return node.isNull() ? LuaValue.NIL : LuaValue.valueOf(node.asText());
    }

    static JsonNode fromLua(LuaValue value) {
        if (value.istable()) {
            LuaTable table = value.checktable();
            if (table.length() > 0) {
                ArrayNode array = JSON.createArrayNode();
                for (int i = 1; i <= table.length(); i++) {
                    array.add(fromLua(table.get(i)));
                }
                return array;
            }
            ObjectNode object = JSON.createObjectNode();
            for (LuaValue key : table.keys()) {
                object.set(key.tojstring(), fromLua(table.get(key)));
            }
            return object;
        }
        if (value.isboolean()) {
            return BooleanNode.valueOf(value.toboolean());
        }
        if (value.type() == LuaValue.TNUMBER) {
            return value.isinttype() ? IntNode.valueOf(value.toint()) : DoubleNode.valueOf(value.todouble());
        }
        return value.isnil() ? NullNode.getInstance() : TextNode.valueOf(value.tojstring());
    }
}
