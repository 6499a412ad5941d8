# feedgen 1.x (lkiesow/python-feedgen): the parts feedsvc.feeds.render uses.
