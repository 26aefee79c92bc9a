// The demo chat client: plain DOM, no framework. Cards are built with textContent, never
// innerHTML, so nothing a user typed can become markup.
(function () {
  "use strict";
  var params = new URLSearchParams(location.search);
  var me = (params.get("as") || "alice").toLowerCase();
  // The demo's people ({uid: {name, zone}}), written into the page by the server, so a wrong
  // ?as= can be answered before connecting and each reader's own zone is known.
  var people = JSON.parse(document.getElementById("people").textContent || "{}");
  var current = null;
  var unread = {};
  var all = [];
  var directory = null;
  var socket = null;
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function clock(iso) {
    return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: zone });
  }
  function day(iso) {
    return new Date(iso).toLocaleDateString([], { weekday: "short", day: "numeric", month: "short", timeZone: zone });
  }
  function keyOf(m) {
    if (m.receiverType === "group") return "group:" + m.receiver;
    return "user:" + (m.sender === me ? m.receiver : m.sender);
  }
  function nameOf(uid) {
    if (!directory) return uid;
    if (uid === directory.bot) return "Calendar Bot";
    return directory.users[uid] || uid;
  }

  function availabilityCard(m) {
    var c = m.data.customData;
    var box = el("div", { class: "card availability" });
    box.appendChild(el("h3", {}, c.sharer.name + " shared their free time"));
    var byDay = {};
    c.slots.forEach(function (s) { (byDay[day(s.start)] = byDay[day(s.start)] || []).push({ slot: s }); });
    c.busy.forEach(function (b) { (byDay[day(b.start)] = byDay[day(b.start)] || []).push({ busy: b }); });
    var days = el("div", { class: "days" });
    Object.keys(byDay).forEach(function (label) {
      var column = el("div", { class: "day" });
      column.appendChild(el("b", {}, label));
      byDay[label].sort(function (a, b) {
        return ((a.slot || a.busy).start < (b.slot || b.busy).start) ? -1 : 1;
      }).forEach(function (item) {
        if (item.slot) {
          var link = el("a", { class: "slot", href: c.bookingUrl + "&tz=" + encodeURIComponent(zone) + "&slot=" + encodeURIComponent(item.slot.start) }, clock(item.slot.start));
          column.appendChild(link);
        } else {
          column.appendChild(el("span", { class: "busy" }, "busy " + clock(item.busy.start) + "–" + clock(item.busy.end)));
        }
      });
      days.appendChild(column);
    });
    box.appendChild(days);
    // Every day of the window with its free count (the slot list above is only the first
    // few), so no day looks fully busy just because its slots did not fit in the card.
    if (c.days) {
      var counts = el("div", { class: "counts" });
      c.days.forEach(function (d) {
        var label = new Date(d.date + "T12:00:00Z").toLocaleDateString([], { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
        counts.appendChild(el("span", { class: d.free ? "count" : "count none" }, label + ": " + (d.free ? d.free + " free" : "none free")));
      });
      box.appendChild(counts);
    }
    var more = c.moreOnPage ? "More free times on the page – open the full calendar" : "Open the full calendar";
    box.appendChild(el("a", { href: c.bookingUrl + "&tz=" + encodeURIComponent(zone), class: "open" }, more));
    if (c.computedAt) box.appendChild(el("div", { class: "computed" }, "Computed " + day(c.computedAt) + " " + clock(c.computedAt) + "; the page is always current."));
    return box;
  }

  // Yahoo reads ST/ET as wall-clock time in the reader's Yahoo calendar, so the one link in
  // the card is right only for the attendee. Each reader gets it rebuilt in their own zone.
  function wall(iso, tz) {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })
      .formatToParts(new Date(iso)).forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + parts.month + parts.day + "T" + parts.hour + parts.minute + parts.second;
  }
  function yahooFor(link, event, tz) {
    var url = new URL(link);
    var query = url.search.slice(1).split("&").map(function (pair) {
      var key = pair.split("=")[0];
      if (key === "ST") return "ST=" + wall(event.start, tz);
      if (key === "ET") return "ET=" + wall(event.end, tz);
      if (key === "DESC") {
        var desc = decodeURIComponent(pair.slice(5)).replace(/Times in [^\s.]+\.$/, "Times in " + tz + ".");
        return "DESC=" + encodeURIComponent(desc);
      }
      return pair;
    });
    return url.origin + url.pathname + "?" + query.join("&");
  }
  function myZone() { return (people[me] && people[me].zone) || zone; }

  function inviteCard(m) {
    var c = m.data.customData;
    var box = el("div", { class: "card invite" });
    box.appendChild(el("h3", {}, c.event.title));
    box.appendChild(el("div", {}, day(c.event.start) + ", " + clock(c.event.start) + "–" + clock(c.event.end) + " (" + zone + ")"));
    box.appendChild(el("div", {}, c.event.organizer.name + " with " + c.event.attendee.name));
    var links = el("div", { class: "links" });
    [["google", "Google"], ["yahoo", "Yahoo"], ["outlook", "Outlook.com"], ["office365", "Office 365"]].forEach(function (pair) {
      var href = pair[0] === "yahoo" ? yahooFor(c.links.yahoo, c.event, myZone()) : c.links[pair[0]];
      var label = pair[0] === "yahoo" ? "Yahoo (" + myZone() + ")" : pair[1];
      links.appendChild(el("a", { href: href, target: "_blank", rel: "noopener", class: pair[0] }, label));
    });
    links.appendChild(el("a", { href: c.icsUrl, class: "ics", download: "invite.ics" }, "Apple Calendar (.ics)"));
    box.appendChild(links);
    var extra = el("div", { class: "links" });
    if (c.joinUrl) extra.appendChild(el("a", { href: c.joinUrl, target: "_blank", rel: "noopener", class: "join" }, "Join the video call"));
    // Each side gets its own signed Move link; others see none.
    if (c.moveUrls && c.moveUrls[me]) extra.appendChild(el("a", { href: c.moveUrls[me], class: "move" }, "Move this meeting"));
    if (extra.childNodes.length) box.appendChild(extra);
    return box;
  }

  function pollCard(m) {
    var c = m.data.customData;
    var box = el("div", { class: "card poll" });
    box.appendChild(el("div", { class: "text" }, m.data.text || ""));
    c.slots.forEach(function (slot, index) {
      var row = el("div", { class: "vote" });
      row.appendChild(el("b", {}, (index + 1) + ") " + day(slot.start) + " " + clock(slot.start) + " "));
      [["yes", "Yes"], ["maybe", "If need be"], ["no", "No"]].forEach(function (pair) {
        var button = el("button", { type: "button", class: "vote-" + pair[0], "data-option": String(index + 1) }, pair[1]);
        button.addEventListener("click", function () {
          socket.emit("send", { receiver: m.receiver, receiverType: "group", text: "/vote " + (index + 1) + " " + pair[0] });
        });
        row.appendChild(button);
      });
      box.appendChild(row);
    });
    return box;
  }

  function render(m) {
    var box = el("div", { class: "msg" + (m.sender === me ? " mine" : ""), "data-id": m.id });
    box.appendChild(el("div", { class: "who" }, nameOf(m.sender)));
    if (m.type === "extension_calendar_availability" && m.data.customData) box.appendChild(availabilityCard(m));
    else if (m.type === "extension_calendar_invite" && m.data.customData) box.appendChild(inviteCard(m));
    else if (m.type === "extension_calendar_poll" && m.data.customData) box.appendChild(pollCard(m));
    else box.appendChild(el("div", { class: "text" }, m.data.text || ""));
    return box;
  }

  function newest() {
    // Keep the newest message and the composer in view (on a phone the list is the only
    // scrolling part of the page).
    var list = document.getElementById("messages");
    list.scrollTop = list.scrollHeight;
  }

  function show() {
    var list = document.getElementById("messages");
    list.replaceChildren();
    all.filter(function (m) { return keyOf(m) === current; }).forEach(function (m) { list.appendChild(render(m)); });
    unread[current] = 0;
    badges();
    pointer();
    hint();
    requestAnimationFrame(newest);
    newest();
  }

  function badges() {
    document.querySelectorAll("nav button").forEach(function (b) {
      b.setAttribute("aria-current", b.dataset.key === current ? "true" : "false");
      var count = unread[b.dataset.key] || 0;
      var badge = b.querySelector(".badge");
      if (!count) { if (badge) badge.remove(); return; }
      if (!badge) { badge = el("span", { class: "badge" }); b.appendChild(badge); }
      badge.textContent = String(count);
      badge.setAttribute("aria-label", count + " unread");
    });
  }

  // The bot answers commands in its own chat with you, wherever they were typed (like real
  // CometChat bots): when it does while you look elsewhere, say so where you are looking.
  function pointer() {
    var bar = document.getElementById("pointer");
    var key = "user:" + (directory ? directory.bot : "");
    var count = unread[key] || 0;
    bar.hidden = !count || current === key;
    if (!bar.hidden) {
      bar.querySelector("span").textContent = "Calendar Bot answered you in its own chat (" + count + " new).";
    }
  }
  function hint() {
    var text = document.getElementById("hint");
    var bot = directory ? "user:" + directory.bot : "";
    text.textContent = current === bot ? "" : current && current.indexOf("group:") === 0
      ? "Commands here: cards and bookings go to the group; the bot's own answers to you go to your Calendar Bot chat."
      : "Commands typed here are answered in your Calendar Bot chat; cards for the other person appear here.";
  }

  function conversations() {
    var nav = document.getElementById("conversations");
    nav.replaceChildren();
    var items = [["user:" + directory.bot, "Calendar Bot"]];  // where the bot answers you
    Object.keys(directory.users).forEach(function (uid) { if (uid !== me) items.push(["user:" + uid, directory.users[uid]]); });
    Object.keys(directory.groups).forEach(function (guid) {
      if (directory.groups[guid].members.indexOf(me) >= 0) items.push(["group:" + guid, directory.groups[guid].name + " (group)"]);
    });
    items.forEach(function (item) {
      var button = el("button", { type: "button", "data-key": item[0] }, item[1]);
      button.addEventListener("click", function () { current = item[0]; show(); document.getElementById("text").focus({ preventScroll: true }); });
      nav.appendChild(button);
    });
    if (!current) current = params.get("with") || items[0][0];
  }

  function start() {
    socket = io({ auth: { uid: me }, transports: ["websocket"] });
    socket.on("connect", function () {
      document.getElementById("status").textContent = "connected as " + me + " (" + zone + ")";
      socket.emit("directory", function (d) {
        directory = d;
        var picker = document.getElementById("me");
        picker.replaceChildren();
        Object.keys(d.users).forEach(function (uid) {
          var option = el("option", { value: uid }, d.users[uid]);
          if (uid === me) option.selected = true;
          picker.appendChild(option);
        });
        conversations();
        socket.emit("history", function (messages) { all = messages; show(); });
      });
    });
    socket.on("connect_error", function (e) { document.getElementById("status").textContent = "cannot connect: " + e.message; });
    socket.on("message", function (m) {
      all.push(m);
      var key = keyOf(m);
      if (key === current) { show(); return; }
      if (m.sender !== me) { unread[key] = (unread[key] || 0) + 1; badges(); pointer(); }
    });
    socket.on("message_edited", function (m) {
      all = all.map(function (old) { return old.id === m.id ? m : old; });
      if (keyOf(m) === current) show();
    });
  }

  function chooser() {
    // ?as=someone-unknown: say who can be chosen instead of a blank page.
    var list = document.getElementById("messages");
    var box = el("div", { class: "msg", id: "chooser" });
    box.appendChild(el("div", {}, "There is no demo user “" + me + "”. Choose who you are:"));
    var links = el("div", { class: "links" });
    Object.keys(people).forEach(function (uid) {
      links.appendChild(el("a", { href: "?as=" + encodeURIComponent(uid) }, people[uid].name + " (" + people[uid].zone + ")"));
    });
    box.appendChild(links);
    list.replaceChildren(box);
    var picker = document.getElementById("me");
    picker.replaceChildren(el("option", { value: "" }, "choose…"));
    Object.keys(people).forEach(function (uid) { picker.appendChild(el("option", { value: uid }, people[uid].name)); });
    document.getElementById("status").textContent = "not signed in";
    document.getElementById("text").disabled = true;
  }

  document.getElementById("pointer").querySelector("button").addEventListener("click", function () {
    current = "user:" + directory.bot; show();
  });
  document.getElementById("me").addEventListener("change", function (event) {
    location.search = "?as=" + encodeURIComponent(event.target.value);
  });
  document.getElementById("composer").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = document.getElementById("text");
    var text = input.value.trim();
    if (!text || !current) return;
    var parts = current.split(":");
    socket.emit("send", { receiver: parts[1], receiverType: parts[0], text: text }, function (answer) {
      if (answer && answer.error) document.getElementById("status").textContent = answer.error;
    });
    input.value = "";
    newest();
  });
  if (people[me]) start(); else chooser();
})();
