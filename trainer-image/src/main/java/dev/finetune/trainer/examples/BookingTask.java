package dev.finetune.trainer.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A real-language task a small pretrained model does poorly out of the box: read a hotel booking request
 * written in free English and answer with one line of JSON in a fixed house style — keys in the order
 * {@code name, city, check_in, nights, guests}, the date as {@code MM-DD}, numbers as numbers, nothing else.
 * Records are generated from a seed (names, cities, dates, counts and eleven phrasings), so every run sees the
 * same data and the held-out records never occur in training.
 */
public final class BookingTask {

    static final String SYSTEM = "Reply with one line of JSON only.";
    static final String INSTRUCTION = "Extract the booking as JSON: ";
    static final String[] KEYS = {"name", "city", "check_in", "nights", "guests"};

    private static final String[] FIRST = {"Anna", "Ben", "Chloe", "David", "Elena", "Farid", "Grace", "Hugo", "Ines",
        "Jonas", "Keiko", "Liam", "Maria", "Noah", "Olga", "Pedro", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera",
        "Wei", "Yusuf", "Zoe"};
    private static final String[] LAST = {"Novak", "Smith", "Garcia", "Müller", "Rossi", "Khan", "Tanaka", "Silva",
        "Berg", "Dubois", "Kowalski", "Okafor", "Larsen", "Moreau", "Costa", "Ivanova", "Park", "Jensen"};
    private static final String[] CITIES = {"Porto", "Vienna", "Kyoto", "Oslo", "Lisbon", "Prague", "Dublin", "Seville",
        "Krakow", "Bergen", "Lyon", "Turin", "Ghent", "Tallinn", "Split", "Bruges", "Salzburg", "Malaga"};
    private static final String[] MONTHS = {"January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December"};
    private static final String[] NUMBER_WORDS = {"zero", "one", "two", "three", "four", "five", "six", "seven"};
    private static final String[] PHRASINGS = {
        "Hi, this is {name}. I'd like a room in {city} for {nights} nights from {month} {day}, for {guests} people.",
        "Please book {city} for {name}: arriving {month} {day}, staying {nights} nights, {guests} guests.",
        "{name} here. We are {guests} and need a hotel in {city} starting {month} {day} for {nights} nights.",
        "Could you reserve {nights} nights in {city} from the {ordinal} of {month}? Party of {guests}, name {name}.",
        "Booking request from {name}: {city}, check-in {month} {day}, {nights} nights, {guests} adults.",
        "I need accommodation in {city} for {guests_word} people, {nights_word} nights, beginning {month} {day}. - {name}",
        "Name: {name}. Destination: {city}. Arrival: {month} {day}. Length of stay: {nights} nights. Guests: {guests}.",
        "{name} would like to stay in {city} for {nights_word} nights with {guests_word} guests, checking in on {month} {day}.",
        "Hello! {guests} of us are travelling to {city}. Can we check in on {month} {day} and stay {nights} nights? Thanks, {name}",
        "Reserve a room under {name} in {city}, {month} {day}, {nights} nights, {guests} persons please.",
        "For {month} {day} we would like {nights} nights in {city}; {guests} guests; the booking is for {name}.",
    };

    /** One record: the request, the answer in house style, and the fields. */
    public record Booking(String request, String answer, ObjectNode fields) {}

    private BookingTask() {}

    /** {@code count} bookings from {@code seed}; different seeds give disjoint-looking data, the same seed the same data. */
    public static List<Booking> generate(int count, long seed) {
        Random r = new Random(seed);
        List<Booking> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String name = FIRST[r.nextInt(FIRST.length)] + " " + LAST[r.nextInt(LAST.length)];
            String city = CITIES[r.nextInt(CITIES.length)];
            int month = 1 + r.nextInt(12);
            int day = 1 + r.nextInt(28);
            int nights = 1 + r.nextInt(7);
            int guests = 1 + r.nextInt(6);
            String text = PHRASINGS[r.nextInt(PHRASINGS.length)]
                    .replace("{name}", name).replace("{city}", city).replace("{month}", MONTHS[month - 1])
                    .replace("{day}", Integer.toString(day)).replace("{ordinal}", ordinal(day))
                    .replace("{nights_word}", NUMBER_WORDS[nights]).replace("{guests_word}", NUMBER_WORDS[guests])
                    .replace("{nights}", Integer.toString(nights)).replace("{guests}", Integer.toString(guests));
            text = singular(text);
            ObjectNode fields = new ObjectMapper().createObjectNode();
            fields.put("name", name);
            fields.put("city", city);
            fields.put("check_in", String.format("%02d-%02d", month, day));
            fields.put("nights", nights);
            fields.put("guests", guests);
            out.add(new Booking(text, fields.toString(), fields));
        }
        return out;
    }

    /** "1 nights" -> "1 night", "one people" -> "one person": the phrasings are written for plurals. */
    static String singular(String text) {
        for (String one : new String[] {"1 ", "one "}) {
            text = text.replace(one + "nights", one + "night").replace(one + "people", one + "person")
                    .replace(one + "persons", one + "person").replace(one + "guests", one + "guest")
                    .replace(one + "adults", one + "adult");
        }
        return text.replace("Party of 1,", "Party of one,").replace("We are 1 and", "I am alone and")
                .replace("1 of us are", "I am");
    }

    static String ordinal(int day) {
        String suffix = (day % 100 >= 11 && day % 100 <= 13) ? "th"
                : switch (day % 10) {
                    case 1 -> "st";
                    case 2 -> "nd";
                    case 3 -> "rd";
                    default -> "th";
                };
        return day + suffix;
    }

    /** Writes the bookings as {@code messages} JSONL (system, user, assistant), the trainer's chat format. */
    public static void writeJsonl(List<Booking> bookings, Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        StringBuilder sb = new StringBuilder();
        for (Booking b : bookings) {
            ObjectNode record = json.createObjectNode();
            ArrayNode messages = record.putArray("messages");
            messages.addObject().put("role", "system").put("content", SYSTEM);
            messages.addObject().put("role", "user").put("content", INSTRUCTION + b.request());
            messages.addObject().put("role", "assistant").put("content", b.answer());
            sb.append(json.writeValueAsString(record)).append('\n');
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, sb.toString());
    }

    /** How an answer scores: exact (the house-style line itself) and the share of the five fields right. */
    public record Score(boolean exact, int fieldsRight) {}

    /** Scores a model's answer against the booking: exact match of the trimmed line, and field by field when it parses. */
    public static Score score(Booking b, String answer) {
        String line = answer.strip();
        boolean exact = line.equals(b.answer());
        int right = 0;
        try {
            JsonNode parsed = new ObjectMapper().readTree(line);
            if (parsed != null && parsed.isObject()) {
                for (String key : KEYS) {
                    JsonNode expected = b.fields().get(key);
                    JsonNode got = parsed.get(key);
                    if (got != null && (got.equals(expected) || got.asText().equals(expected.asText()))) {
                        right++;
                    }
                }
            }
        } catch (IOException notJson) {
            // an answer that is not JSON gets no field right
        }
        return new Score(exact, right);
    }

}
