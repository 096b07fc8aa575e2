// mdBook bundles highlight.js 10 without a Dockerfile language, and book.js has already
// highlighted (or skipped) every block when this runs: register the language, then
// highlight the Dockerfile blocks that book.js left alone.
(function () {
    "use strict";
    if (typeof hljs === "undefined") {
        return;
    }
    var INSTRUCTIONS = "FROM|RUN|CMD|LABEL|MAINTAINER|EXPOSE|ENV|ADD|COPY|ENTRYPOINT|VOLUME|" +
        "USER|WORKDIR|ARG|ONBUILD|STOPSIGNAL|HEALTHCHECK|SHELL";
    hljs.registerLanguage("dockerfile", function (hljs) {
        return {
            name: "Dockerfile",
            aliases: ["docker"],
            contains: [
                hljs.HASH_COMMENT_MODE,
                // An instruction opens a line; continuation lines start with anything else.
                { className: "keyword", begin: new RegExp("^\\s*(" + INSTRUCTIONS + ")\\b", "i") },
                // Stage names: FROM image AS name.
                { className: "keyword", begin: /\bAS\b/ },
                // Flags such as --from=builder or --chmod=0555.
                { className: "meta", begin: /--[a-z][a-z-]*(=\S*)?/ },
                { className: "variable", begin: /\$(\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*)/ },
                hljs.QUOTE_STRING_MODE,
                hljs.APOS_STRING_MODE,
                hljs.NUMBER_MODE
            ]
        };
    });
    document.querySelectorAll("code.language-dockerfile").forEach(function (block) {
        hljs.highlightBlock(block);
        block.classList.add("hljs");
    });
})();
